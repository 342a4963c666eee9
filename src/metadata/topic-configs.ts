/**
 * Every topic-level config of Kafka 3.9, with Kafka's names, types, defaults and checks. Values are
 * kept as strings (as Kafka's config APIs carry them) and parsed where used. The `active` ones are
 * honoured by this broker; the others are accepted, validated, stored and described, and have no
 * effect (docs/configuration.md lists them as "stored, not acted on"), so that clients and tools
 * written for Kafka can create and alter topics with them.
 */
export type TopicConfigType = 'boolean' | 'string' | 'int' | 'long' | 'double' | 'list';

export interface TopicConfigSpec {
  name: string;
  type: TopicConfigType;
  defaultValue: string;
  /** Null when valid, otherwise what was expected. */
  check(value: string): string | null;
  /** Honoured by this broker (false: stored and reported only). */
  active: boolean;
  /** Kafka's broker-level default of this config (its synonym in DescribeConfigs), when there is one. */
  brokerKey: string | null;
}

const LONG_MAX = 2n ** 63n - 1n;
const INT_MAX = 2n ** 31n - 1n;
const LONG_MAX_TEXT = LONG_MAX.toString();

const whole = (min: number, max: bigint) => (v: string) => (/^-?\d+$/.test(v.trim()) && BigInt(v.trim()) >= BigInt(min) && BigInt(v.trim()) <= max ? null : `an integer in [${min}, ${max}]`);
const long = (min: number) => whole(min, LONG_MAX);
const int = (min: number) => whole(min, INT_MAX);
const ratio = (v: string) => (/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v) && Number(v) >= 0 && Number(v) <= 1 ? null : 'a number in [0, 1]');
const bool = (v: string) => (/^(true|false)$/i.test(v.trim()) ? null : 'true or false');
const oneOf = (...values: string[]) => (v: string) =>
  v.split(',').every((part) => values.includes(part.trim())) ? null : `one of ${values.join(', ')}`;
// "*" or a list of partition:broker pairs (Kafka's ThrottledReplicaListValidator).
const replicaList = (v: string) => (/^\s*(\*|(\d+\s*:\s*\d+\s*(,\s*\d+\s*:\s*\d+\s*)*))?\s*$/.test(v) ? null : '"*" or a list of partition:broker pairs');
// Kafka's MetadataVersion names (0.10.0, 2.8, 3.0-IV1, ...).
const formatVersion = (v: string) => (/^\d+\.\d+(\.\d+)?(-IV\d+)?$/.test(v.trim()) ? null : 'a Kafka version such as 3.0-IV1');

const WEEK_MS = String(7 * 24 * 3600 * 1000);
const DAY_MS = String(24 * 3600 * 1000);

function spec(name: string, type: TopicConfigType, defaultValue: string, check: (v: string) => string | null, active: boolean, brokerKey: string | null): TopicConfigSpec {
  return { name, type, defaultValue, check, active, brokerKey };
}

export const TOPIC_CONFIGS: readonly TopicConfigSpec[] = [
  spec('cleanup.policy', 'list', 'delete', oneOf('delete', 'compact'), true, 'log.cleanup.policy'),
  // Batches are stored as the producer compressed them; recompressing to another codec is not done.
  spec('compression.type', 'string', 'producer', oneOf('producer'), true, 'compression.type'),
  spec('delete.retention.ms', 'long', DAY_MS, long(0), true, 'log.cleaner.delete.retention.ms'),
  spec('file.delete.delay.ms', 'long', '60000', long(0), false, 'log.segment.delete.delay.ms'),
  spec('flush.messages', 'long', LONG_MAX_TEXT, long(1), false, 'log.flush.interval.messages'),
  spec('flush.ms', 'long', LONG_MAX_TEXT, long(0), false, 'log.flush.interval.ms'),
  spec('follower.replication.throttled.replicas', 'list', '', replicaList, false, null),
  spec('index.interval.bytes', 'int', '4096', int(0), false, 'log.index.interval.bytes'),
  spec('leader.replication.throttled.replicas', 'list', '', replicaList, false, null),
  spec('local.retention.bytes', 'long', '-2', long(-2), false, 'log.local.retention.bytes'),
  spec('local.retention.ms', 'long', '-2', long(-2), false, 'log.local.retention.ms'),
  spec('max.compaction.lag.ms', 'long', LONG_MAX_TEXT, long(1), false, 'log.cleaner.max.compaction.lag.ms'),
  spec('max.message.bytes', 'int', '1048588', int(0), true, 'message.max.bytes'),
  spec('message.downconversion.enable', 'boolean', 'true', bool, false, 'log.message.downconversion.enable'),
  spec('message.format.version', 'string', '3.0-IV1', formatVersion, false, 'log.message.format.version'),
  spec('message.timestamp.after.max.ms', 'long', LONG_MAX_TEXT, long(0), false, 'log.message.timestamp.after.max.ms'),
  spec('message.timestamp.before.max.ms', 'long', LONG_MAX_TEXT, long(0), false, 'log.message.timestamp.before.max.ms'),
  spec('message.timestamp.difference.max.ms', 'long', LONG_MAX_TEXT, long(0), false, 'log.message.timestamp.difference.max.ms'),
  spec('message.timestamp.type', 'string', 'CreateTime', oneOf('CreateTime', 'LogAppendTime'), true, 'log.message.timestamp.type'),
  spec('min.cleanable.dirty.ratio', 'double', '0.5', ratio, false, 'log.cleaner.min.cleanable.ratio'),
  spec('min.compaction.lag.ms', 'long', '0', long(0), false, 'log.cleaner.min.compaction.lag.ms'),
  spec('min.insync.replicas', 'int', '1', int(1), true, 'min.insync.replicas'),
  spec('preallocate', 'boolean', 'false', bool, false, 'log.preallocate'),
  spec('remote.log.copy.disable', 'boolean', 'false', bool, false, null),
  spec('remote.log.delete.on.disable', 'boolean', 'false', bool, false, null),
  spec('remote.storage.enable', 'boolean', 'false', bool, false, null),
  spec('retention.bytes', 'long', '-1', long(-1), true, 'log.retention.bytes'),
  spec('retention.ms', 'long', WEEK_MS, long(-1), true, 'log.retention.ms'),
  spec('segment.bytes', 'int', String(1024 * 1024 * 1024), int(14), true, 'log.segment.bytes'),
  spec('segment.index.bytes', 'int', String(10 * 1024 * 1024), int(4), false, 'log.index.size.max.bytes'),
  spec('segment.jitter.ms', 'long', '0', long(0), false, 'log.roll.jitter.ms'),
  spec('segment.ms', 'long', WEEK_MS, long(1), true, 'log.roll.ms'),
  spec('unclean.leader.election.enable', 'boolean', 'false', bool, false, 'unclean.leader.election.enable'),
];

const BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

export function topicConfigSpec(name: string): TopicConfigSpec | undefined {
  return BY_NAME.get(name);
}

/** Checks a set of topic config overrides; returns the first problem as a message, or null. */
export function checkTopicConfigs(configs: Record<string, string>): string | null {
  for (const [name, value] of Object.entries(configs)) {
    const spec = BY_NAME.get(name);
    if (!spec) return `unknown topic config ${name}`;
    const expected = spec.check(value);
    if (expected) return `invalid value ${JSON.stringify(value)} for ${name}: expected ${expected}`;
  }
  return null;
}

/** Effective configs of a topic: defaults overlaid with its overrides. */
export function effectiveTopicConfigs(overrides: Record<string, string>, defaults: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of TOPIC_CONFIGS) out[spec.name] = overrides[spec.name] ?? defaults[spec.name] ?? spec.defaultValue;
  return out;
}
