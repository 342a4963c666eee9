/**
 * Topic-level configs StreamBus stores and honours, with Kafka's names, defaults and checks.
 * Values are kept as strings (as Kafka's config APIs carry them) and parsed where used.
 */
export interface TopicConfigSpec {
  name: string;
  defaultValue: string;
  /** Null when valid, otherwise what was expected. */
  check(value: string): string | null;
  /** Honoured by this broker (false: stored and reported, meaningful once a feature exists). */
  active: boolean;
}

const long = (min: number) => (v: string) => (/^-?\d+$/.test(v) && Number(v) >= min ? null : `an integer >= ${min}`);
const oneOf = (...values: string[]) => (v: string) =>
  v.split(',').every((part) => values.includes(part.trim())) ? null : `one of ${values.join(', ')}`;

export const TOPIC_CONFIGS: readonly TopicConfigSpec[] = [
  { name: 'cleanup.policy', defaultValue: 'delete', check: oneOf('delete', 'compact'), active: true },
  { name: 'retention.ms', defaultValue: String(7 * 24 * 3600 * 1000), check: long(-1), active: true },
  { name: 'retention.bytes', defaultValue: '-1', check: long(-1), active: true },
  { name: 'segment.bytes', defaultValue: String(1024 * 1024 * 1024), check: long(14), active: true },
  { name: 'segment.ms', defaultValue: String(7 * 24 * 3600 * 1000), check: long(1), active: true },
  { name: 'max.message.bytes', defaultValue: '1048588', check: long(0), active: true },
  { name: 'min.insync.replicas', defaultValue: '1', check: long(1), active: true },
  { name: 'delete.retention.ms', defaultValue: String(24 * 3600 * 1000), check: long(0), active: true },
  { name: 'message.timestamp.type', defaultValue: 'CreateTime', check: oneOf('CreateTime', 'LogAppendTime'), active: true },
  { name: 'compression.type', defaultValue: 'producer', check: oneOf('producer'), active: true },
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
