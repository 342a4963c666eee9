/**
 * What Kafka checks on a produced batch before appending it (COMPAT.md section 2), read straight from
 * the batch header without decoding records. The CRC is checked once, by storage on append, with the
 * native CRC32C; everything else is checked here, with Kafka's error code for each failure.
 */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';

export interface ProducedBatch {
  errorCode: number;
  errorMessage: string | null;
  recordCount: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
}

const HEADER_BYTES = 61;
const ZSTD = 4;

function refuse(errorCode: number, errorMessage: string): ProducedBatch {
  return { errorCode, errorMessage, recordCount: 0, producerId: -1n, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0, maxTimestamp: -1 };
}

/** Checks one partition's records field of a Produce request (v3+: exactly one v2 batch). */
export function validateProducedBatch(records: Buffer | null, apiVersion: number, maxMessageBytes: number): ProducedBatch {
  if (records === null || records.length === 0) return refuse(KafkaErrorCode.INVALID_RECORD, 'no record batch');
  if (records.length < HEADER_BYTES) return refuse(KafkaErrorCode.CORRUPT_MESSAGE, `record batch of ${records.length} bytes is shorter than its header`);
  const magic = records.readInt8(16);
  if (magic !== 2) return refuse(KafkaErrorCode.INVALID_RECORD, `record batch magic ${magic}; only magic 2 is accepted`);
  const size = records.readInt32BE(8) + 12;
  if (size > records.length) return refuse(KafkaErrorCode.CORRUPT_MESSAGE, 'record batch is truncated');
  if (size < records.length) return refuse(KafkaErrorCode.INVALID_RECORD, 'more than one record batch for a partition');
  if (size > maxMessageBytes) {
    return refuse(KafkaErrorCode.MESSAGE_TOO_LARGE, `record batch of ${size} bytes exceeds max.message.bytes ${maxMessageBytes}`);
  }
  const attributes = records.readInt16BE(21);
  if (attributes & 0x20) return refuse(KafkaErrorCode.INVALID_RECORD, 'clients may not produce control batches');
  if ((attributes & 0x07) === ZSTD && apiVersion < 7) {
    return refuse(KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd needs Produce v7 or later');
  }
  if ((attributes & 0x07) > ZSTD) return refuse(KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression codec ${attributes & 0x07}`);
  if (attributes & 0x10) return refuse(KafkaErrorCode.INVALID_RECORD, 'transactional batches are not supported by this broker');
  const lastOffsetDelta = records.readInt32BE(23);
  const recordCount = records.readInt32BE(57);
  if (recordCount <= 0 || lastOffsetDelta + 1 !== recordCount) {
    return refuse(KafkaErrorCode.INVALID_RECORD, `record count ${recordCount} does not match last offset delta ${lastOffsetDelta}`);
  }
  const producerId = records.readBigInt64BE(43);
  const producerEpoch = records.readInt16BE(51);
  const baseSequence = records.readInt32BE(53);
  if (producerId >= 0n && baseSequence < 0) return refuse(KafkaErrorCode.INVALID_RECORD, 'idempotent batch without a base sequence');
  const maxTimestamp = Number(records.readBigInt64BE(35));
  return { errorCode: 0, errorMessage: null, recordCount, producerId, producerEpoch, baseSequence, lastOffsetDelta, maxTimestamp };
}
