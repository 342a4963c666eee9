/**
 * Produce: one record batch (v2) to one partition, sent to its leader. Returns the offset the broker
 * assigned to the first record (-1 with acks=0, where no answer comes back).
 *
 * Retries: retriable errors (leader moved, not enough replicas, lost connection) are retried with the
 * client's bounded backoff. Without idempotence a retry after a lost connection can append the batch
 * twice, as with any Kafka client that has idempotence off.
 */
import { loadCompressionCodecs, CompressionCodec } from '../protocol/kafka/compression/index.ts';
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { buildRecordBatch, type BatchRecord } from '../protocol/kafka/record-batch/index.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ClientCore } from './client-core.ts';
import { throwIfError } from './kafka-error.ts';
import type { ProduceRecord } from './types.ts';

export type Acks = -1 | 0 | 1;
export type CompressionName = keyof typeof CompressionCodec;

export interface ProduceOptions {
  acks?: Acks;
  compression?: CompressionName;
  /** How long the broker may wait for acks=-1 replication (the request's timeout_ms). */
  timeoutMs?: number;
}

export interface ProduceResult {
  /** Offset of the first record; -1 with acks=0. */
  baseOffset: bigint;
  /** The broker's append time when the topic uses LogAppendTime, else -1. */
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
}

function bytes(v: Uint8Array | string | null | undefined): Uint8Array | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

export function toBatchRecord(r: ProduceRecord): BatchRecord {
  return {
    key: bytes(r.key),
    value: bytes(r.value),
    headers: (r.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
    ...(r.timestamp !== undefined ? { timestamp: BigInt(r.timestamp) } : {}),
  };
}

/** Builds the batch once, then sends it (retrying) to the partition leader. */
export async function produce(core: ClientCore, topic: string, partition: number, records: readonly ProduceRecord[], opts: ProduceOptions = {}): Promise<ProduceResult> {
  if (records.length === 0) throw new StreamBusError('SB_ERR_INVALID_BATCH', 'produce needs at least one record');
  const acks = opts.acks ?? -1;
  const codec = CompressionCodec[opts.compression ?? 'none'];
  if (codec === undefined) throw new StreamBusError('SB_ERR_CONFIG', `unknown compression ${opts.compression}`);
  if (codec === CompressionCodec.zstd) await loadCompressionCodecs();
  const batch = buildRecordBatch(records.map(toBatchRecord), { compression: codec });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const build = () => ({ transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] });
  return core.retry(async () => {
    const leader = await core.leaderOf(topic, partition, true);
    if (acks === 0) {
      await core.requestWithoutResponse({ node: leader }, build);
      return { baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };
    }
    const { body } = await core.request({ node: leader }, API_KEYS.Produce, build, timeoutMs + 5_000);
    const p = body.responses.find((t) => t.name === topic)?.partitionResponses.find((x) => x.index === partition);
    if (!p) throw new StreamBusError('SB_ERR_PROTOCOL', `Produce response lacks partition ${topic}-${partition}`);
    throwIfError(p.errorCode, `produce to ${topic}-${partition}`, p.errorMessage);
    return { baseOffset: p.baseOffset, logAppendTimeMs: p.logAppendTimeMs, logStartOffset: p.logStartOffset };
  });
}
