/**
 * Turns the `records` bytes of one fetched partition into records with absolute offsets and timestamps.
 *
 * - Batches are checked (length, magic 2, CRC-32C) before their records are read: a consumer must not
 *   hand out bytes that were damaged on the way (Kafka's check.crcs).
 * - Records before `fromOffset` are dropped: a fetch may start inside a batch.
 * - Control batches (transaction markers) are never returned.
 * - Under read_committed, records of aborted transactions are dropped: a transactional batch is skipped
 *   when its producer has an aborted transaction starting at or before it that its abort marker has not
 *   closed yet (the aborted_transactions list of the Fetch response).
 * - A partial batch at the end (a Fetch may be cut off at max_bytes) is ignored; `nextOffset` then
 *   points at it so the next fetch reads it whole.
 */
import { checkBatch, ControlType, isControlBatch, isLogAppendTime, isTransactionalBatch, readBatchHeader, readControlMarker, readRecords, splitBatches } from '../protocol/kafka/record-batch/index.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ConsumedRecord } from './types.ts';

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface DecodedRecords {
  records: ConsumedRecord[];
  /** The offset after the last complete batch, or `fromOffset` when there was none. */
  nextOffset: bigint;
}

export function decodeRecords(topic: string, partition: number, bytes: Buffer | null, fromOffset: bigint, aborted: readonly AbortedTransaction[] | null = null): DecodedRecords {
  const records: ConsumedRecord[] = [];
  let nextOffset = fromOffset;
  if (bytes === null || bytes.length === 0) return { records, nextOffset };
  const pendingAborts = [...(aborted ?? [])].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const aborting = new Set<bigint>();
  for (const { start, end } of splitBatches(bytes)) {
    const batch = bytes.subarray(start, end);
    const problem = checkBatch(batch);
    if (problem !== null) throw new StreamBusError('SB_ERR_CORRUPT', `fetched batch of ${topic}-${partition} at byte ${start} is invalid (${problem.message})`);
    const h = readBatchHeader(batch);
    const lastOffset = h.baseOffset + BigInt(h.lastOffsetDelta);
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
    while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= lastOffset) aborting.add(pendingAborts.shift()!.producerId);
    if (isControlBatch(h.attributes)) {
      const marker = readRecords(batch)[0];
      if (marker && readControlMarker(marker).type === ControlType.abort) aborting.delete(h.producerId);
      continue;
    }
    if (lastOffset < fromOffset) continue;
    if (isTransactionalBatch(h.attributes) && aborting.has(h.producerId)) continue;
    const logAppendTime = isLogAppendTime(h.attributes);
    const baseTimestamp = Number(h.baseTimestamp);
    for (const r of readRecords(batch)) {
      const offset = h.baseOffset + BigInt(r.offsetDelta);
      if (offset < fromOffset) continue;
      records.push({
        topic,
        partition,
        offset,
        timestamp: logAppendTime ? Number(h.maxTimestamp) : baseTimestamp + r.timestampDelta,
        key: r.key,
        value: r.value,
        headers: r.headers,
      });
    }
  }
  return { records, nextOffset };
}
