/**
 * A failure of an administrative operation that explains itself to people (the topic does not exist,
 * the group still has members). The CLI prints its message as is; the admin API answers it with the
 * HTTP status its code stands for (admin-answer.ts). Kafka errors the broker returns stay
 * KafkaResponseError (SB_ERR_KAFKA), so callers still see the broker's own error name.
 */
import { StreamBusError } from '../util/errors.ts';

export type AdminErrorCode = 'SB_ERR_NOT_FOUND' | 'SB_ERR_CONFLICT' | 'SB_ERR_INVALID_REQUEST';

export class AdminError extends StreamBusError {
  declare readonly code: AdminErrorCode;
  /** A short name of what went wrong in the admin API's answers (UNKNOWN_TOPIC_OR_PARTITION, GROUP_NOT_EMPTY, ...). */
  readonly reason: string;
  constructor(code: AdminErrorCode, reason: string, message: string) {
    super(code, message);
    this.name = 'AdminError';
    this.reason = reason;
  }
}
