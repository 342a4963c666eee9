/**
 * The requests of the every-version test that are answered with a specific error by design. Every
 * other error field of every response must be 0. A field is named by its path in the decoded body
 * without array indexes (`responses.partitionResponses.errorCode`); an entry also requires the field
 * to occur at least once, so an empty answer does not pass for a refusal.
 */
import { KafkaErrorCode } from '../../../src/protocol/kafka/error-codes.ts';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';

export interface ExpectedError {
  apiKey: number;
  /** Inclusive version range the entry applies to. */
  versions: readonly [number, number];
  /** The probe step (the label a probe gives the request). */
  step: string;
  field: string;
  errorCode: number;
  why: string;
}

export const EXPECTED_ERRORS: readonly ExpectedError[] = [
  {
    apiKey: API_KEYS.DescribeTopicPartitions,
    versions: [0, Number.MAX_SAFE_INTEGER],
    step: 'unknown topic',
    field: 'topics.errorCode',
    errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    why: 'the probe names a topic that does not exist',
  },
  {
    apiKey: API_KEYS.DescribeTopicPartitions,
    versions: [0, Number.MAX_SAFE_INTEGER],
    step: 'stray cursor',
    field: 'topics.errorCode',
    errorCode: KafkaErrorCode.INVALID_REQUEST,
    why: 'a cursor naming a topic outside the request is refused on every topic, as Kafka answers it',
  },
  ...(
    [
      [API_KEYS.DescribeAcls, 'describe-acls', 'errorCode'],
      [API_KEYS.CreateAcls, 'create-acls', 'results.errorCode'],
      [API_KEYS.DeleteAcls, 'delete-acls', 'filterResults.errorCode'],
    ] as const
  ).map(([apiKey, step, field]) => ({
    apiKey,
    versions: [0, Number.MAX_SAFE_INTEGER] as const,
    step,
    field,
    errorCode: KafkaErrorCode.SECURITY_DISABLED,
    why: 'the test broker runs without security.authorization; Kafka without an authorizer answers the same',
  })),
  {
    apiKey: API_KEYS.SaslHandshake,
    versions: [0, Number.MAX_SAFE_INTEGER],
    step: 'handshake',
    field: 'errorCode',
    errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE,
    why: 'the test broker has no SASL on its listener; Kafka answers the same there',
  },
  {
    apiKey: API_KEYS.SaslAuthenticate,
    versions: [0, Number.MAX_SAFE_INTEGER],
    step: 'authenticate',
    field: 'errorCode',
    errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE,
    why: 'the test broker has no SASL on its listener',
  },
  {
    apiKey: API_KEYS.ElectLeaders,
    versions: [0, Number.MAX_SAFE_INTEGER],
    step: 'elect',
    field: 'replicaElectionResults.partitionResult.errorCode',
    errorCode: KafkaErrorCode.ELECTION_NOT_NEEDED,
    why: 'a lone broker is the preferred replica and leader of every partition already',
  },
  {
    apiKey: API_KEYS.Produce,
    versions: [0, 2],
    step: 'produce',
    field: 'responses.partitionResponses.errorCode',
    errorCode: KafkaErrorCode.UNSUPPORTED_VERSION,
    why: 'Produce v0-2 carry message format v0/v1, which is listed but never stored (KAFKA-18659)',
  },
  {
    apiKey: API_KEYS.Fetch,
    versions: [0, 3],
    step: 'fetch',
    field: 'responses.partitions.errorCode',
    errorCode: KafkaErrorCode.UNSUPPORTED_VERSION,
    why: 'Fetch v0-3 return message format v0/v1, which is never converted to',
  },
  {
    apiKey: API_KEYS.JoinGroup,
    versions: [4, Number.MAX_SAFE_INTEGER],
    step: 'join',
    field: 'errorCode',
    errorCode: KafkaErrorCode.MEMBER_ID_REQUIRED,
    why: 'from v4 a first join without a member id is handed one and must rejoin with it (KIP-394)',
  },
];

/** field path -> error code expected for this request; fields not listed must be 0. */
export function expectedErrors(apiKey: number, version: number, step: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of EXPECTED_ERRORS) {
    if (e.apiKey === apiKey && e.step === step && version >= e.versions[0] && version <= e.versions[1]) out.set(e.field, e.errorCode);
  }
  return out;
}
