/**
 * Multi-tenancy at the request level (docs/multi-tenancy.md): the tenant of each connection, decided
 * once when it authenticates (tenancy/tenant-resolver.ts) and counted against the tenant's
 * maxConnections until it closes; the namespace rule access.ts applies on top of the ACLs (a tenant
 * touches only names that start with `<tenant>.`); maxTopics; and the tenant's bandwidth, charged to a
 * token bucket of the client-quota enforcer and throttled as Kafka throttles (throttle_time_ms and a
 * muted connection). Without multiTenancy.enabled (`ctx.tenancy` null) every function here lets all
 * through.
 */
import { ResourceType, AclOperation } from '../metadata/acls.ts';
import { CERTIFICATE_SUBJECT_STATE, PRINCIPAL_STATE, ANONYMOUS } from '../security/principal.ts';
import { ownsName, resolveTenant, type TenantSettings } from '../tenancy/tenant-resolver.ts';
import type { TenantRegistry } from '../tenancy/tenant-registry.ts';
import type { TenantMetrics } from '../observability/tenant-metrics.ts';
import type { ConnectionInfo } from '../net/connection.ts';
import type { BrokerContext } from './context.ts';

/** What multi-tenancy needs on a broker (built by the composition root when multiTenancy.enabled). */
export interface Tenancy {
  readonly settings: TenantSettings;
  readonly registry: TenantRegistry;
  readonly metrics: TenantMetrics;
  /** Rate-limited: a client retrying a refused request must not flood the log. */
  readonly refusals: { warn(fields: object, message: string): void };
}

/** The key of a connection's tenant in its state: a name, or null for a super user (no tenant). */
export const TENANT_STATE = 'tenant';

/**
 * The tenant of a connection: its name, null when it has none (a super user, or multi-tenancy off),
 * undefined when it has not been admitted yet.
 */
export function connectionTenant(ctx: BrokerContext, connection: ConnectionInfo): string | null | undefined {
  if (ctx.tenancy === null) return null;
  return connection.state.get(TENANT_STATE) as string | null | undefined;
}

/**
 * Finds the connection's tenant and counts the connection against its maxConnections, once per
 * connection (re-authentication keeps the principal, so it keeps the tenant too). Returns why the
 * connection is refused, or null. `sasl`: given when the connection authenticated with SASL (then its
 * certificate, if any, names no tenant), with the verified token's claims for OAUTHBEARER.
 */
export function admitConnection(ctx: BrokerContext, connection: ConnectionInfo, sasl?: { readonly claims?: Readonly<Record<string, unknown>> | undefined }): string | null {
  const tenancy = ctx.tenancy;
  if (tenancy === null || connection.state.has(TENANT_STATE)) return null;
  const principal = (connection.state.get(PRINCIPAL_STATE) as string | undefined) ?? ANONYMOUS;
  const claims = sasl?.claims;
  const subject = sasl === undefined ? (connection.state.get(CERTIFICATE_SUBJECT_STATE) as Record<string, string | string[]> | undefined) : undefined;
  const resolved = resolveTenant({ principal, ...(claims === undefined ? {} : { claims }), ...(subject === undefined ? {} : { certificateSubject: subject }) }, tenancy.settings);
  if (resolved.kind === 'super-user') {
    connection.state.set(TENANT_STATE, null);
    return null;
  }
  if (resolved.kind === 'refused') {
    tenancy.refusals.warn({ conn: connection.id, remote: connection.remoteAddress, principal, reason: resolved.reason }, 'connection refused: no tenant');
    return `Connection refused: ${resolved.reason}.`;
  }
  const problem = tenancy.registry.admit(resolved.tenant);
  if (problem !== null) {
    tenancy.refusals.warn({ conn: connection.id, remote: connection.remoteAddress, principal, tenant: resolved.tenant, reason: problem }, 'connection refused: tenant at its connection limit');
    return `Connection refused: ${problem}.`;
  }
  connection.state.set(TENANT_STATE, resolved.tenant);
  connection.onClose(() => tenancy.registry.release(resolved.tenant));
  ctx.log.debug({ conn: connection.id, principal, tenant: resolved.tenant, source: resolved.source }, 'connection admitted for tenant');
  return null;
}

/** Operations on the cluster a tenant may do: create topics (their names are checked on their own) and write idempotently. */
const TENANT_CLUSTER_OPERATIONS = new Set<number>([AclOperation.CREATE, AclOperation.IDEMPOTENT_WRITE]);

/**
 * Whether the connection's tenant may touch the resource at all (the ACLs decide the rest): its own
 * topics, groups and transactional ids, and of the cluster only what TENANT_CLUSTER_OPERATIONS names.
 * Broker configs, ACLs, quotas, credentials and partition moves are the operators' (super users').
 */
export function tenantMayTouch(ctx: BrokerContext, connection: ConnectionInfo, operation: number, resourceType: number, resourceName: string): boolean {
  const tenant = connectionTenant(ctx, connection);
  if (tenant === null) return true;
  // Not admitted (the router admits before any handler runs): nothing.
  if (tenant === undefined) return false;
  switch (resourceType) {
    case ResourceType.TOPIC:
    case ResourceType.GROUP:
    case ResourceType.TRANSACTIONAL_ID:
      return ownsName(tenant, resourceName);
    case ResourceType.CLUSTER:
      return TENANT_CLUSTER_OPERATIONS.has(operation);
    default:
      return false;
  }
}

/** Logs a refusal by the namespace rule (rate-limited). */
export function logTenantRefusal(ctx: BrokerContext, connection: ConnectionInfo, operation: string, resource: string): void {
  ctx.tenancy?.refusals.warn({ conn: connection.id, tenant: connectionTenant(ctx, connection), operation, resource }, 'request refused: outside the tenant\'s namespace');
}

/** Topics whose names start with `<tenant>.`, in the whole cluster. */
export function tenantTopicCount(ctx: BrokerContext, tenant: string): number {
  let count = 0;
  for (const t of ctx.metadata.state.topics()) if (ownsName(tenant, t.name)) count++;
  return count;
}

/** The topics of each of `tenants` (for the metrics), in one pass over the topics. */
export function tenantTopicCounts(topics: Iterable<{ readonly name: string }>, tenants: readonly string[]): Map<string, number> {
  const wanted = new Set(tenants);
  const counts = new Map<string, number>();
  for (const t of topics) {
    const dot = t.name.indexOf('.');
    if (dot <= 0) continue;
    const tenant = t.name.slice(0, dot);
    if (wanted.has(tenant) && ownsName(tenant, t.name)) counts.set(tenant, (counts.get(tenant) ?? 0) + 1);
  }
  return counts;
}

/** Why the connection's tenant may not create one more topic (its maxTopics), or null. */
export function topicQuotaProblem(ctx: BrokerContext, connection: ConnectionInfo, topic: string): string | null {
  const tenant = connectionTenant(ctx, connection);
  if (tenant === null || tenant === undefined) return null;
  const max = ctx.tenancy!.registry.limits(tenant).maxTopics;
  const count = tenantTopicCount(ctx, tenant);
  if (count < max) return null;
  const problem = `Tenant ${tenant} already owns ${count} topics, its maxTopics quota (${max}); delete topics or ask for a higher quota (streambus tenant quota).`;
  ctx.tenancy!.refusals.warn({ conn: connection.id, tenant, topic, count, max }, 'topic creation refused: tenant at its topic limit');
  return problem;
}

/**
 * Takes `bytes` of produce (`direction` in) or fetch (out) from the connection's tenant's bandwidth and
 * returns how long to throttle (0 within quota or without a tenant). Counted in the tenant's metrics.
 */
export function chargeTenantBandwidth(ctx: BrokerContext, connection: ConnectionInfo, direction: 'in' | 'out', bytes: number): number {
  const tenant = connectionTenant(ctx, connection);
  if (tenant === null || tenant === undefined) return 0;
  const tenancy = ctx.tenancy!;
  if (direction === 'in') tenancy.metrics.produced(tenant, bytes);
  else tenancy.metrics.fetched(tenant, bytes);
  const ms = ctx.clientQuotas.take(tenant, tenancy.registry.limits(tenant).maxBandwidthBytesPerSecond, bytes, ctx.now());
  if (ms > 0) tenancy.metrics.throttled(tenant, ms);
  return ms;
}

/** The throttle time the connection's tenant owes already (a fetch is then answered empty), without taking anything. */
export function tenantBandwidthOwed(ctx: BrokerContext, connection: ConnectionInfo): number {
  const tenant = connectionTenant(ctx, connection);
  if (tenant === null || tenant === undefined) return 0;
  return ctx.clientQuotas.owedOn(tenant, ctx.tenancy!.registry.limits(tenant).maxBandwidthBytesPerSecond, ctx.now());
}
