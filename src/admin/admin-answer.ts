/**
 * How an operation's failure becomes an admin API answer: the HTTP status and SB_ERR code its kind
 * stands for, with the Kafka error name (and number) when the broker refused. Null for a failure no
 * rule covers: the caller logs it and answers 500.
 */
import { isKafkaError } from '../client/index.ts';
import { isStreamBusError } from '../util/errors.ts';
import { errorAnswer, type AdminAnswer } from '../http/admin-api.ts';
import { AdminError } from './admin-error.ts';
import { LoopbackRefusal } from './loopback-client.ts';

const ADMIN_STATUS = { SB_ERR_NOT_FOUND: 404, SB_ERR_CONFLICT: 409, SB_ERR_INVALID_REQUEST: 400 } as const;

const KAFKA_NOT_FOUND = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID', 'GROUP_ID_NOT_FOUND']);
const KAFKA_CONFLICT = new Set(['TOPIC_ALREADY_EXISTS', 'NON_EMPTY_GROUP', 'REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID']);

export function failureAnswer(err: unknown): AdminAnswer | null {
  if (err instanceof AdminError) return errorAnswer(ADMIN_STATUS[err.code], err.code, err.reason, err.message);
  if (err instanceof LoopbackRefusal) return errorAnswer(err.status, err.status === 401 ? 'SB_ERR_UNAUTHENTICATED' : 'SB_ERR_UNAVAILABLE', err.status === 401 ? 'UNAUTHENTICATED' : 'NOT_SERVING', err.message);
  if (isKafkaError(err)) {
    const name = err.kafkaName;
    const extra = { kafkaCode: err.kafkaCode };
    if (KAFKA_NOT_FOUND.has(name)) return errorAnswer(404, 'SB_ERR_NOT_FOUND', name, err.message, extra);
    if (KAFKA_CONFLICT.has(name)) return errorAnswer(409, 'SB_ERR_CONFLICT', name, err.message, extra);
    if (name.endsWith('_AUTHORIZATION_FAILED')) return errorAnswer(403, 'SB_ERR_FORBIDDEN', name, err.message, extra);
    if (name === 'SASL_AUTHENTICATION_FAILED') return errorAnswer(401, 'SB_ERR_UNAUTHENTICATED', name, err.message, extra);
    if (err.retriable) return errorAnswer(503, 'SB_ERR_UNAVAILABLE', name, err.message, extra);
    // INVALID_CONFIG, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, POLICY_VIOLATION, INVALID_TOPIC_EXCEPTION, ...
    return errorAnswer(400, 'SB_ERR_INVALID_REQUEST', name, err.message, extra);
  }
  // The loopback SASL exchange refused the caller (a password changed since the check, a token expired).
  if (isStreamBusError(err, 'SB_ERR_SASL')) return errorAnswer(401, 'SB_ERR_UNAUTHENTICATED', 'SASL_AUTHENTICATION_FAILED', err.message);
  if (isStreamBusError(err, 'SB_ERR_IO') || isStreamBusError(err, 'SB_ERR_CLOSED')) return errorAnswer(503, 'SB_ERR_UNAVAILABLE', 'BROKER_UNREACHABLE', err.message);
  return null;
}
