/** Kafka's topic-name rules: 1 to 249 characters of [a-zA-Z0-9._-], and not "." or "..". */
const LEGAL = /^[a-zA-Z0-9._-]+$/;
export const TOPIC_NAME_MAX_LENGTH = 249;

/** Null when the name is valid, otherwise why not. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > TOPIC_NAME_MAX_LENGTH) return `topic name is longer than ${TOPIC_NAME_MAX_LENGTH} characters`;
  if (!LEGAL.test(name)) return `topic name "${name}" has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

/** Committed offsets and consumer group metadata. */
export const OFFSETS_TOPIC = '__consumer_offsets';
/** The transaction coordinators' state. */
export const TXN_STATE_TOPIC = '__transaction_state';

/** Names Kafka reserves for the broker's own use. */
export function isInternalTopic(name: string): boolean {
  return name === OFFSETS_TOPIC || name === TXN_STATE_TOPIC;
}
