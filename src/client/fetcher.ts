/**
 * Reads a set of partitions from given positions, the engine of both `consume` modes (plain and group).
 *
 * Two offsets per partition: the fetch offset (where the next Fetch starts) runs ahead of the position
 * (the offset after the last record handed out) while fetched records wait in the buffer, so a caller
 * that takes fewer records than were fetched (`poll(maxRecords)`) never skips any, and positions are
 * what a group commits.
 *
 * OFFSET_OUT_OF_RANGE resets the partition by `resetPolicy` (or throws with 'none'). Retriable partition
 * errors are retried on the next poll, up to MAX_PARTITION_ERRORS in a row; other errors are thrown.
 */
import type { ClientCore } from './client-core.ts';
import { fetchPartitions, type FetchOptions } from './fetch.ts';
import { KafkaResponseError } from './kafka-error.ts';
import { listOffsets } from './list-offsets.ts';
import type { ConsumedRecord, TopicPartitionOffset } from './types.ts';

export type ResetPolicy = 'earliest' | 'latest' | 'none';

const MAX_PARTITION_ERRORS = 20;
const ERROR_BACKOFF_MS = 200;

interface PartitionState {
  topic: string;
  partition: number;
  position: bigint;
  fetchOffset: bigint;
  /** The end a reader can see: last stable offset under read_committed; -1 until the first fetch. */
  endOffset: bigint;
  buffer: ConsumedRecord[];
  errorsInRow: number;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class Fetcher {
  private states = new Map<string, PartitionState>();

  constructor(
    private readonly core: ClientCore,
    private readonly resetPolicy: ResetPolicy,
    private readonly fetchOptions: FetchOptions = {},
  ) {}

  /** Replaces the set of partitions and their positions; buffered records are dropped. */
  assign(positions: readonly TopicPartitionOffset[]): void {
    this.states = new Map(
      positions.map((p) => [keyOf(p.topic, p.partition), { topic: p.topic, partition: p.partition, position: p.offset, fetchOffset: p.offset, endOffset: -1n, buffer: [], errorsInRow: 0 }]),
    );
  }

  /** The offset after the last record handed out, per partition. */
  positions(): TopicPartitionOffset[] {
    return [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition, offset: s.position }));
  }

  /** True when every partition was fetched at least once and its position reached the end seen then. */
  atEnd(): boolean {
    for (const s of this.states.values()) if (s.endOffset < 0n || s.position < s.endOffset) return false;
    return true;
  }

  /**
   * Up to `maxRecords` records, fetching (one long poll of at most `maxWaitMs`, default the fetch
   * options') only when nothing is buffered.
   */
  async poll(maxRecords = Number.MAX_SAFE_INTEGER, maxWaitMs?: number): Promise<ConsumedRecord[]> {
    if (this.states.size === 0) return [];
    if (![...this.states.values()].some((s) => s.buffer.length > 0)) await this.fill(maxWaitMs);
    const out: ConsumedRecord[] = [];
    for (const s of this.states.values()) {
      if (out.length >= maxRecords) break;
      const take = s.buffer.splice(0, maxRecords - out.length);
      for (const r of take) out.push(r);
      if (take.length > 0) s.position = take[take.length - 1]!.offset + 1n;
      // A drained buffer means everything up to the fetch offset was seen (gaps, control batches).
      if (s.buffer.length === 0) s.position = s.fetchOffset;
    }
    return out;
  }

  private async fill(maxWaitMs: number | undefined): Promise<void> {
    const wanted = [...this.states.values()].map((s) => ({ topic: s.topic, partition: s.partition, offset: s.fetchOffset }));
    const results = await fetchPartitions(this.core, wanted, maxWaitMs === undefined ? this.fetchOptions : { ...this.fetchOptions, maxWaitMs });
    let failures = 0;
    for (const r of results) {
      const s = this.states.get(keyOf(r.topic, r.partition));
      if (!s || s.fetchOffset !== r.fetchOffset) continue;
      if (r.error) {
        failures++;
        await this.onError(s, r.error);
        continue;
      }
      s.errorsInRow = 0;
      s.endOffset = r.lastStableOffset >= 0n ? r.lastStableOffset : r.highWatermark;
      s.buffer = r.records;
      s.fetchOffset = r.nextOffset;
    }
    if (failures > 0 && failures === results.length) await new Promise((resolve) => setTimeout(resolve, ERROR_BACKOFF_MS));
  }

  private async onError(s: PartitionState, error: KafkaResponseError): Promise<void> {
    if (error.kafkaName === 'OFFSET_OUT_OF_RANGE' && this.resetPolicy !== 'none') {
      const [found] = await listOffsets(this.core, s.topic, [s.partition], this.resetPolicy);
      s.position = s.fetchOffset = found!.offset;
      s.buffer = [];
      return;
    }
    if (!error.retriable || ++s.errorsInRow > MAX_PARTITION_ERRORS) throw error;
  }
}
