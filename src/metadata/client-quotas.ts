/**
 * Kafka's client quotas (KIP-55, KIP-546) as cluster metadata: per entity (a user, a client id, a user
 * and a client id, or their defaults) a set of quota values, changed by AlterClientQuotas and read by
 * DescribeClientQuotas and the brokers that enforce them. Pure.
 *
 * Entities follow Kafka: parts of type `user` and `client-id`, each with a name or null for the
 * default (`<default>`); allowed shapes are user, client-id, and user + client-id. Keys: the produce and
 * fetch byte rates per second, and request_percentage (handler time, in percent of one request thread).
 * controller_mutation_rate and the ip entity are refused as unsupported, not stored and ignored.
 */

export type QuotaEntityType = 'user' | 'client-id';
export const QUOTA_ENTITY_TYPES: readonly QuotaEntityType[] = ['user', 'client-id'];

export interface QuotaEntityPart {
  readonly type: QuotaEntityType;
  /** The user or client id; null is the default entity of that type. */
  readonly name: string | null;
}

export type QuotaKey = 'producer_byte_rate' | 'consumer_byte_rate' | 'request_percentage';
export const QUOTA_KEYS: readonly QuotaKey[] = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage'];

export interface ClientQuotaRecord {
  /** Sorted by type (user before client-id). */
  readonly entity: readonly QuotaEntityPart[];
  readonly values: Readonly<Partial<Record<QuotaKey, number>>>;
}

export interface QuotaChange {
  readonly entity: readonly QuotaEntityPart[];
  /** A value to set, or null to remove the key. */
  readonly ops: readonly { readonly key: string; readonly value: number | null }[];
}

const NAME_MAX = 255;

/** The entity in canonical order (user, then client-id), or a reason it is not a valid entity. */
export function canonicalEntity(parts: readonly { type: string; name: string | null }[]): QuotaEntityPart[] | string {
  if (parts.length === 0) return 'an entity needs at least one part (user or client-id)';
  const seen = new Set<string>();
  for (const p of parts) {
    if (p.type === 'ip') return 'the ip entity (connection_creation_rate) is not supported';
    if (!(QUOTA_ENTITY_TYPES as readonly string[]).includes(p.type)) return `unknown entity type ${JSON.stringify(p.type)} (user or client-id)`;
    if (seen.has(p.type)) return `entity type ${p.type} appears twice`;
    seen.add(p.type);
    if (p.name !== null && (typeof p.name !== 'string' || p.name.length > NAME_MAX)) return `${p.type} name must be a string of at most ${NAME_MAX} characters`;
  }
  return QUOTA_ENTITY_TYPES.filter((t) => seen.has(t)).map((type) => ({ type, name: parts.find((p) => p.type === type)!.name }));
}

/** Why a change cannot be applied, or null. */
export function quotaChangeProblem(change: QuotaChange): string | null {
  const entity = canonicalEntity(change.entity);
  if (typeof entity === 'string') return entity;
  const keys = new Set<string>();
  for (const op of change.ops) {
    if (op.key === 'controller_mutation_rate') return 'controller_mutation_rate is not supported by this broker';
    if (!(QUOTA_KEYS as readonly string[]).includes(op.key)) return `unknown quota ${JSON.stringify(op.key)} (${QUOTA_KEYS.join(', ')})`;
    if (keys.has(op.key)) return `quota ${op.key} is changed twice`;
    keys.add(op.key);
    if (op.value !== null && !(Number.isFinite(op.value) && op.value > 0)) return `quota ${op.key} must be a positive number, got ${op.value}`;
    if (op.key === 'request_percentage' && op.value !== null && op.value > 100_000) return 'request_percentage above 100000 is not a limit';
  }
  return null;
}

/** The table key of an entity: `user=<name>,client-id=<name>` with `<default>` for null names. */
export function entityKey(entity: readonly QuotaEntityPart[]): string {
  return entity.map((p) => `${p.type}=${p.name === null ? '<default>' : encodeURIComponent(p.name)}`).join(',');
}

/** `records` with `change` applied: keys set or removed; an entity left without values goes. */
export function applyQuotaChange(records: readonly ClientQuotaRecord[], change: QuotaChange): ClientQuotaRecord[] {
  const entity = canonicalEntity(change.entity) as QuotaEntityPart[];
  const key = entityKey(entity);
  const old = records.find((r) => entityKey(r.entity) === key);
  const values: Partial<Record<QuotaKey, number>> = { ...(old?.values ?? {}) };
  for (const op of change.ops) {
    if (op.value === null) delete values[op.key as QuotaKey];
    else values[op.key as QuotaKey] = op.value;
  }
  const rest = records.filter((r) => r !== old);
  return Object.keys(values).length === 0 ? rest : [...rest, { entity, values }];
}

/**
 * The quota `key` for a connection of `user` with `clientId`: the most specific entity that sets it,
 * in Kafka's order (user+client-id, user+default client, user, default user+client-id, default
 * user+default client, default user, client-id, default client). Null when none sets it.
 */
export function resolveQuota(records: readonly ClientQuotaRecord[], key: QuotaKey, user: string, clientId: string): { value: number; entity: readonly QuotaEntityPart[] } | null {
  const byKey = new Map(records.map((r) => [entityKey(r.entity), r]));
  const u = (name: string | null): QuotaEntityPart => ({ type: 'user', name });
  const c = (name: string | null): QuotaEntityPart => ({ type: 'client-id', name });
  const order: QuotaEntityPart[][] = [[u(user), c(clientId)], [u(user), c(null)], [u(user)], [u(null), c(clientId)], [u(null), c(null)], [u(null)], [c(clientId)], [c(null)]];
  for (const entity of order) {
    const k = entityKey(entity);
    const value = byKey.get(k)?.values[key];
    if (value !== undefined) return { value, entity };
  }
  return null;
}

/**
 * DescribeClientQuotas' filter: each component matches one entity type exactly (a name), its default
 * entity, or any entity that has that type; `strict` also requires the entity to have no other types.
 */
export interface QuotaFilterComponent {
  readonly type: string;
  readonly match: { readonly kind: 'exact'; readonly name: string } | { readonly kind: 'default' } | { readonly kind: 'any' };
}

export function matchQuotas(records: readonly ClientQuotaRecord[], components: readonly QuotaFilterComponent[], strict: boolean): ClientQuotaRecord[] {
  return records.filter((r) => {
    for (const comp of components) {
      const part = r.entity.find((p) => p.type === comp.type);
      if (part === undefined) return false;
      if (comp.match.kind === 'exact' && part.name !== comp.match.name) return false;
      if (comp.match.kind === 'default' && part.name !== null) return false;
    }
    return !strict || r.entity.length === components.length;
  });
}
