/**
 * Control batches: transaction markers the broker writes (attributes bit 5 and bit 4). One record whose
 * key is `version int16 (0), type int16` (0 abort, 1 commit) and whose value is `version int16 (0),
 * coordinatorEpoch int32`.
 */
import { StreamBusError } from '../../../util/errors.ts';
import { buildRecordBatch } from './builder.ts';
import type { KafkaRecord } from './records.ts';

export const ControlType = { abort: 0, commit: 1 } as const;

export interface ControlMarker {
  type: number;
  coordinatorEpoch: number;
}

export function buildControlBatch(marker: ControlMarker, opts: { producerId: bigint; producerEpoch: number; timestamp: bigint; baseOffset?: bigint; partitionLeaderEpoch?: number }): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  return buildRecordBatch([{ key, value, timestamp: opts.timestamp }], {
    control: true,
    transactional: true,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseOffset: opts.baseOffset ?? 0n,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
  });
}

/** Reads the marker of a control record. Throws SB_ERR_INVALID_BATCH when key or value are malformed. */
export function readControlMarker(rec: KafkaRecord): ControlMarker {
  if (rec.key === null || rec.key.length < 4) throw new StreamBusError('SB_ERR_INVALID_BATCH', 'control record key too short');
  const type = rec.key.readInt16BE(2);
  const coordinatorEpoch = rec.value !== null && rec.value.length >= 6 ? rec.value.readInt32BE(2) : -1;
  return { type, coordinatorEpoch };
}
