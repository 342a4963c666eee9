/** Kafka error codes for the metadata layer's error names (Kafka's own names, and a few of StreamBus's). */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { MetadataError, StreamBusMetadataError } from '../metadata/cluster-state.ts';

/** The Kafka error a Kafka client is shown for each error StreamBus names itself. */
const KAFKA_EQUIVALENT: Record<StreamBusMetadataError, keyof typeof KafkaErrorCode> = {
  BROKER_HOLDS_REPLICAS: 'INVALID_REQUEST',
};

function isStreamBusError(error: MetadataError): error is StreamBusMetadataError {
  return Object.hasOwn(KAFKA_EQUIVALENT, error);
}

export function metadataErrorCode(error: MetadataError | null): number {
  if (error === null) return 0;
  return KafkaErrorCode[isStreamBusError(error) ? KAFKA_EQUIVALENT[error] : error];
}
