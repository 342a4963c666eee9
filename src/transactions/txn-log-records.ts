/**
 * Records of the `__transaction_state` log, in Apache Kafka's layout (its TransactionLogKey and
 * TransactionLogValue, version 0), so that the log compacts by transactional id and reads like Kafka's:
 *
 *   key   version int16 (0), transactional_id string
 *   value version int16 (0), producer_id int64, producer_epoch int16, transaction_timeout_ms int32,
 *         transaction_status int8, transaction_partitions [topic string, partition_ids [int32]] | null,
 *         transaction_last_update_timestamp_ms int64, transaction_start_timestamp_ms int64
 *
 * A null value is a tombstone (an expired transactional id). Kafka's later, flexible value version
 * (KIP-890) is not written here and is refused on read (SB_ERR_CORRUPT), as an unknown version is.
 */
import { StructReader, StructWriter } from '../protocol/kafka/record-struct.ts';
import { StreamBusError } from '../util/errors.ts';

const KEY_VERSION = 0;
const VALUE_VERSION = 0;
const WHAT = '__transaction_state';

/** Kafka's TransactionState codes, as stored. */
export const TxnStatus = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnStatusName = keyof typeof TxnStatus;

export interface TxnTopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface TxnLogValue {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  readonly status: TxnStatusName;
  /** The partitions of the transaction under way (empty when none). */
  readonly partitions: readonly TxnTopicPartitions[];
  readonly lastUpdateMs: number;
  /** When the transaction under way started; -1 when there is none. */
  readonly startMs: number;
}

const STATUS_NAMES = new Map(Object.entries(TxnStatus).map(([name, code]) => [code as number, name as TxnStatusName]));

export function encodeTxnLogKey(transactionalId: string): Buffer {
  return new StructWriter().int16(KEY_VERSION).string(transactionalId).finish();
}

export function decodeTxnLogKey(buf: Buffer): string {
  const r = new StructReader(buf, `${WHAT} key`);
  const version = r.int16();
  if (version !== KEY_VERSION) r.fail(`unknown key version ${version}`);
  const id = r.string();
  r.end();
  return id;
}

export function encodeTxnLogValue(v: TxnLogValue): Buffer {
  const w = new StructWriter().int16(VALUE_VERSION).int64(v.producerId).int16(v.producerEpoch).int32(v.timeoutMs).int8(TxnStatus[v.status]);
  w.int32(v.partitions.length);
  for (const t of v.partitions) {
    w.string(t.topic).int32(t.partitions.length);
    for (const p of t.partitions) w.int32(p);
  }
  return w.int64(v.lastUpdateMs).int64(v.startMs).finish();
}

export function decodeTxnLogValue(buf: Buffer): TxnLogValue {
  const r = new StructReader(buf, `${WHAT} value`);
  const version = r.int16();
  if (version !== VALUE_VERSION) r.fail(`unknown value version ${version}`);
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const code = r.int8();
  const status = STATUS_NAMES.get(code);
  if (status === undefined) throw new StreamBusError('SB_ERR_CORRUPT', `${WHAT} value: unknown transaction status ${code}`);
  const topics = r.int32();
  const partitions: TxnTopicPartitions[] = [];
  if (topics !== -1) {
    if (topics < 0 || topics > buf.length) r.fail(`bad topic count ${topics}`);
    for (let i = 0; i < topics; i++) {
      const topic = r.string();
      const count = r.count();
      const ids: number[] = [];
      for (let j = 0; j < count; j++) ids.push(r.int32());
      partitions.push({ topic, partitions: ids });
    }
  }
  const lastUpdateMs = r.timestamp();
  const startMs = r.timestamp();
  r.end();
  return { producerId, producerEpoch, timeoutMs, status, partitions, lastUpdateMs, startMs };
}
