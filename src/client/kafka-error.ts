/**
 * A Kafka error code returned by a broker, raised by the client as an operating error (SB_ERR_KAFKA).
 * It carries the numeric code, its name from Kafka's table and the table's retriable flag, so callers
 * match on `kafkaName` (or `kafkaCode`) and never on message text.
 */
import { StreamBusError } from '../util/errors.ts';
import { isRetriable, kafkaError } from '../protocol/kafka/error-codes.ts';

export class KafkaResponseError extends StreamBusError {
  readonly kafkaCode: number;
  readonly kafkaName: string;
  readonly retriable: boolean;
  /** The broker's own message (error_message fields), when it sent one. */
  readonly brokerMessage: string | null;

  constructor(kafkaCode: number, context: string, brokerMessage: string | null = null) {
    const name = kafkaErrorName(kafkaCode);
    super('SB_ERR_KAFKA', `${context}: ${name} (${kafkaCode})${brokerMessage ? `: ${brokerMessage}` : ''}`);
    this.name = 'KafkaResponseError';
    this.kafkaCode = kafkaCode;
    this.kafkaName = name;
    this.retriable = isRetriable(kafkaCode);
    this.brokerMessage = brokerMessage;
  }
}

export function kafkaErrorName(code: number): string {
  return kafkaError(code)?.name ?? `UNKNOWN_ERROR_CODE_${code}`;
}

/** null for code 0, else the typed error; for per-item results (topics, partitions, groups). */
export function errorFor(code: number, context: string, brokerMessage: string | null = null): KafkaResponseError | null {
  return code === 0 ? null : new KafkaResponseError(code, context, brokerMessage);
}

/** Throws the typed error unless `code` is 0. */
export function throwIfError(code: number, context: string, brokerMessage: string | null = null): void {
  if (code !== 0) throw new KafkaResponseError(code, context, brokerMessage);
}

export function isKafkaError(e: unknown, name?: string): e is KafkaResponseError {
  return e instanceof KafkaResponseError && (name === undefined || e.kafkaName === name);
}
