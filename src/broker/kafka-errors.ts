/** Kafka error codes for the metadata layer's error names (they are Kafka's own names). */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { MetadataError } from '../metadata/cluster-state.ts';

export function metadataErrorCode(error: MetadataError | null): number {
  return error === null ? 0 : KafkaErrorCode[error];
}
