/**
 * What Kafka checks on a produced batch before appending it (COMPAT.md section 2), read from the batch
 * header without decoding records. The format rules come from checkBatch with the client rules, each
 * problem mapped to Kafka's error code; the CRC is left to storage, which checks it once on append with
 * the native CRC32C. What remains here is this broker's policy: zstd only from Produce v7 (KIP-110),
 * and a producer id on every transactional batch. Whether the producer added the partition to its
 * transaction (AddPartitionsToTxn) is the coordinator's to check, once there is one.
 */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import {
  BATCH_PROBLEM_ERROR,
  Compression,
  checkBatch,
  compressionOf,
  isTransactionalBatch,
  readAttributes,
  readBaseSequence,
  readLastOffsetDelta,
  readMaxTimestamp,
  readProducerEpoch,
  readProducerId,
  readRecordsCount,
} from '../protocol/kafka/record-batch/header.ts';

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

/** The first Produce version that may carry zstd (KIP-110). */
const ZSTD_MIN_PRODUCE_VERSION = 7;

function refuse(errorCode: number, errorMessage: string): ProducedBatch {
  return { errorCode, errorMessage, recordCount: 0, producerId: -1n, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 0, maxTimestamp: -1 };
}

/** Checks one partition's records field of a Produce request (v3+: exactly one v2 batch). */
export function validateProducedBatch(records: Buffer | null, apiVersion: number, maxMessageBytes: number): ProducedBatch {
  if (records === null || records.length === 0) return refuse(KafkaErrorCode.INVALID_RECORD, 'no record batch');
  const problem = checkBatch(records, 0, records.length, { exact: true, maxBytes: maxMessageBytes, crc: null, fromClient: true });
  if (problem !== null) return refuse(BATCH_PROBLEM_ERROR[problem.kind], problem.message);
  const attributes = readAttributes(records, 0);
  if (compressionOf(attributes) === Compression.zstd && apiVersion < ZSTD_MIN_PRODUCE_VERSION) {
    return refuse(KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `zstd needs Produce v${ZSTD_MIN_PRODUCE_VERSION} or later`);
  }
  // A transaction belongs to a producer id; the partition tracks it by that id (docs/transactions.md).
  if (isTransactionalBatch(attributes) && readProducerId(records, 0) < 0n) return refuse(KafkaErrorCode.INVALID_RECORD, 'transactional batch without a producer id');
  return {
    errorCode: 0,
    errorMessage: null,
    recordCount: readRecordsCount(records, 0),
    producerId: readProducerId(records, 0),
    producerEpoch: readProducerEpoch(records, 0),
    baseSequence: readBaseSequence(records, 0),
    lastOffsetDelta: readLastOffsetDelta(records, 0),
    maxTimestamp: readMaxTimestamp(records, 0),
  };
}
