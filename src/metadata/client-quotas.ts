/**
 * Kafka's client quotas (KIP-55, KIP-546) as cluster metadata: per entity (a user, a client id, a user
 * and a client id, or their defaults) a set of quota values, changed by AlterClientQuotas and read by
 * DescribeClientQuotas and the brokers that enforce them. Pure.
 *
 * Entities follow Kafka: parts of type `user` and `client-id`, each with a name or null for the
 * default (`<default>`); allowed shapes are user, client-id, and user + client-id. Keys: the produce and
 * fetch byte rates per second, and request_percentage (handler time, in percent of one request thread).
 * controller_mutation_rate and the ip entity are refused as unsupported, not stored and ignored.
 *
 * StreamBus adds the entity type `tenant` (docs/multi-tenancy.md), alone in its entity, with its own
 * keys: max_topics, max_connections and max_bandwidth_mbps override multiTenancy.defaultQuotas for one
 * tenant, or for every tenant on the default entity (`tenant=<default>`). Stored with the others, so
 * they reach every broker the same way and apply without a restart.
 */

export type QuotaEntityType = 'user' | 'client-id' | 'tenant';
export const QUOTA_ENTITY_TYPES: readonly QuotaEntityType[] = ['user', 'client-id', 'tenant'];

export interface QuotaEntityPart {
  readonly type: QuotaEntityType;
  /** The user or client id; null is the default entity of that type. */
  readonly name: string | null;
}

export type QuotaKey = 'producer_byte_rate' | 'consumer_byte_rate' | 'request_percentage';
export const QUOTA_KEYS: readonly QuotaKey[] = ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage'];

/** The keys of a tenant entity: topics and connections as whole numbers, bandwidth in MB/s (10^6 bytes). */
export type TenantQuotaKey = 'max_topics' | 'max_connections' | 'max_bandwidth_mbps';
export const TENANT_QUOTA_KEYS: readonly TenantQuotaKey[] = ['max_topics', 'max_connections', 'max_bandwidth_mbps'];

export interface ClientQuotaRecord {
  /** Sorted by type (user before client-id); a tenant entity has the one part. */
  readonly entity: readonly QuotaEntityPart[];
  readonly values: Readonly<Partial<Record<QuotaKey | TenantQuotaKey, number>>>;
}

/** Whether a record holds a tenant's quotas (not a client quota). */
export function isTenantRecord(record: ClientQuotaRecord): boolean {
  return record.entity[0]?.type === 'tenant';
}

export interface QuotaChange {
  readonly entity: readonly QuotaEntityPart[];
  /** A value to set, or null to remove the key. */
  readonly ops: readonly { readonly key: string; readonly value: number | null }[];
}

const NAME_MAX = 255;

/** The entity in canonical order (user, then client-id), or a reason it is not a valid entity. */
export function canonicalEntity(parts: readonly { type: string; name: string | null }[]): QuotaEntityPart[] | string {
  if (parts.length === 0) return 'an entity needs at least one part (user, client-id or tenant)';
  if (parts.some((p) => p.type === 'tenant') && parts.length > 1) return 'a tenant entity has no other parts';
  const seen = new Set<string>();
  for (const p of parts) {
    if (p.type === 'ip') return 'the ip entity (connection_creation_rate) is not supported';
    if (!(QUOTA_ENTITY_TYPES as readonly string[]).includes(p.type)) return `unknown entity type ${JSON.stringify(p.type)} (user, client-id or tenant)`;
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
  if (entity[0]!.type === 'tenant') return tenantChangeProblem(entity[0]!.name, change.ops);
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

/** Why a change of a tenant entity cannot be applied, or null. */
function tenantChangeProblem(name: string | null, ops: QuotaChange['ops']): string | null {
  if (name !== null && !TENANT_NAME.test(name)) return `tenant name ${JSON.stringify(name)} is not valid (${TENANT_NAME_RULE})`;
  const keys = new Set<string>();
  for (const op of ops) {
    if (!(TENANT_QUOTA_KEYS as readonly string[]).includes(op.key)) return `unknown tenant quota ${JSON.stringify(op.key)} (${TENANT_QUOTA_KEYS.join(', ')})`;
    if (keys.has(op.key)) return `quota ${op.key} is changed twice`;
    keys.add(op.key);
    if (op.value === null) continue;
    if (!(Number.isFinite(op.value) && op.value > 0)) return `quota ${op.key} must be a positive number, got ${op.value}`;
    if (op.key !== 'max_bandwidth_mbps' && !Number.isSafeInteger(op.value)) return `quota ${op.key} must be a whole number, got ${op.value}`;
  }
  return null;
}

/**
 * What a tenant may be called: it prefixes its topic and group names (`<tenant>.`), so it is a topic
 * name without dots, and short enough to leave room for the rest of the name.
 */
export const TENANT_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const TENANT_NAME_RULE = '1 to 64 letters, digits, _ or -';

/** The table key of an entity: `user=<name>,client-id=<name>` with `<default>` for null names. */
export function entityKey(entity: readonly QuotaEntityPart[]): string {
  return entity.map((p) => `${p.type}=${p.name === null ? '<default>' : encodeURIComponent(p.name)}`).join(',');
}

/** `records` with `change` applied: keys set or removed; an entity left without values goes. */
export function applyQuotaChange(records: readonly ClientQuotaRecord[], change: QuotaChange): ClientQuotaRecord[] {
  const entity = canonicalEntity(change.entity) as QuotaEntityPart[];
  const key = entityKey(entity);
  const old = records.find((r) => entityKey(r.entity) === key);
  const values: Partial<Record<QuotaKey | TenantQuotaKey, number>> = { ...(old?.values ?? {}) };
  for (const op of change.ops) {
    if (op.value === null) delete values[op.key as QuotaKey | TenantQuotaKey];
    else values[op.key as QuotaKey | TenantQuotaKey] = op.value;
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
