/**
 * Fetch: read records from many partitions at once, one request per leader, sent in parallel. Each
 * partition comes back with its records (decoded, from the requested offset on), where to fetch next,
 * and the partition's high watermark, last stable offset and log start offset. Partition errors
 * (OFFSET_OUT_OF_RANGE, NOT_LEADER_OR_FOLLOWER...) are returned per partition; routing caches are
 * dropped on retriable ones so that the next fetch re-resolves leaders.
 *
 * Sessions: every request is a full fetch (session id 0, epoch -1), which every broker accepts.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ClientCore } from './client-core.ts';
import { errorFor, KafkaResponseError } from './kafka-error.ts';
import { decodeRecords } from './record-decoder.ts';
import type { ConsumedRecord, TopicPartitionOffset } from './types.ts';

export interface FetchOptions {
  /** How long the broker may hold the request waiting for `minBytes` (long poll). */
  maxWaitMs?: number;
  minBytes?: number;
  /** Cap on the whole response (the broker still returns at least one batch, KIP-74). */
  maxBytes?: number;
  /** Cap per partition. */
  partitionMaxBytes?: number;
  /** 1 = read_committed (default, as Kafka clients), 0 = read_uncommitted. */
  isolationLevel?: 0 | 1;
}

export interface PartitionFetch {
  topic: string;
  partition: number;
  fetchOffset: bigint;
  records: ConsumedRecord[];
  /** Where the next fetch of this partition should start. */
  nextOffset: bigint;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  error: KafkaResponseError | null;
}

export const FETCH_DEFAULTS = { maxWaitMs: 500, minBytes: 1, maxBytes: 32 * 1024 * 1024, partitionMaxBytes: 8 * 1024 * 1024, isolationLevel: 1 } as const;

export async function fetchPartitions(core: ClientCore, wanted: readonly TopicPartitionOffset[], opts: FetchOptions = {}): Promise<PartitionFetch[]> {
  // Options left undefined keep their defaults (a spread would overwrite them with undefined).
  const o = { ...FETCH_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as Required<FetchOptions>;
  const byLeader = new Map<number, TopicPartitionOffset[]>();
  const out: PartitionFetch[] = [];
  for (const w of wanted) {
    let leader: number;
    try {
      leader = await core.leaderOf(w.topic, w.partition);
    } catch (err) {
      if (!(err instanceof KafkaResponseError)) throw err;
      out.push(failed(w, err));
      continue;
    }
    const list = byLeader.get(leader) ?? [];
    list.push(w);
    byLeader.set(leader, list);
  }
  const answers = await Promise.all([...byLeader].map(([leader, list]) => core.retry(() => fetchFrom(core, leader, list, o))));
  for (const a of answers) out.push(...a);
  const stale = out.find((p) => p.error?.retriable);
  if (stale) core.invalidate(stale.error);
  return out;
}

function failed(w: TopicPartitionOffset, error: KafkaResponseError): PartitionFetch {
  return { topic: w.topic, partition: w.partition, fetchOffset: w.offset, records: [], nextOffset: w.offset, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, error };
}

async function fetchFrom(core: ClientCore, leader: number, list: readonly TopicPartitionOffset[], o: Required<FetchOptions>): Promise<PartitionFetch[]> {
  const topics = new Map<string, TopicPartitionOffset[]>();
  for (const w of list) topics.set(w.topic, [...(topics.get(w.topic) ?? []), w]);
  const { body } = await core.request(
    { node: leader },
    API_KEYS.Fetch,
    () => ({
      replicaId: -1,
      maxWaitMs: o.maxWaitMs,
      minBytes: o.minBytes,
      maxBytes: o.maxBytes,
      isolationLevel: o.isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics].map(([topic, ps]) => ({
        topic,
        partitions: ps.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.offset, logStartOffset: -1n, partitionMaxBytes: o.partitionMaxBytes })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    }),
    o.maxWaitMs + 30_000,
  );
  if (body.errorCode !== 0) {
    const err = errorFor(body.errorCode, 'fetch')!;
    return list.map((w) => failed(w, err));
  }
  const out: PartitionFetch[] = [];
  for (const w of list) {
    const p = body.responses.find((t) => t.topic === w.topic)?.partitions.find((x) => x.partitionIndex === w.partition);
    if (!p) throw new StreamBusError('SB_ERR_PROTOCOL', `Fetch response lacks partition ${w.topic}-${w.partition}`);
    const error = errorFor(p.errorCode, `fetch ${w.topic}-${w.partition} at offset ${w.offset}`);
    if (error) {
      out.push({ ...failed(w, error), highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset });
      continue;
    }
    const decoded = decodeRecords(w.topic, w.partition, p.records, w.offset, p.abortedTransactions);
    out.push({
      topic: w.topic,
      partition: w.partition,
      fetchOffset: w.offset,
      records: decoded.records,
      nextOffset: decoded.nextOffset,
      highWatermark: p.highWatermark,
      lastStableOffset: p.lastStableOffset,
      logStartOffset: p.logStartOffset,
      error: null,
    });
  }
  return out;
}
