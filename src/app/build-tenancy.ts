/**
 * Multi-tenancy on a broker (multiTenancy.enabled, docs/multi-tenancy.md): the settings that name a
 * connection's tenant, the registry of tenants' limits and connections (limits read from the tenant
 * quotas in the metadata, so a change applies without a restart), the per-tenant metrics, and a
 * rate-limited log for refusals. Null when multi-tenancy is off.
 */
import type { BrokerConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { Registry } from 'prom-client';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { Tenancy } from '../broker/tenant-access.ts';
import { tenantTopicCounts } from '../broker/tenant-access.ts';
import { TenantRegistry } from '../tenancy/tenant-registry.ts';
import { TenantMetrics } from '../observability/tenant-metrics.ts';
import { mapPrincipal, parsePrincipalRules } from '../security/principal-rules.ts';
import { parseSuperUsers, type Authorizer } from '../security/authorizer.ts';
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from '../metadata/acls.ts';
import { LineRateLimiter, rateLimitedLogger } from '../observability/rate-limited-logger.ts';

/** Refusals logged per minute at most, per message. */
const REFUSALS_LOGGED = { perWindow: 50, windowMs: 60_000 };

export function buildTenancy(config: BrokerConfig, registry: Registry, metadata: () => MetadataService | undefined, log: Logger, now: () => number): Tenancy | null {
  const settings = config.multiTenancy;
  if (!settings.enabled) return null;
  // The CLI refused malformed rules and super users before the broker started (security-checks.ts).
  const rules = parsePrincipalRules(settings.principalMappingRules);
  const superUsers = parseSuperUsers(config.security.authorization.superUsers);
  if ('problem' in superUsers) throw new Error(`security.authorization.superUsers: ${superUsers.problem}`);
  const tenants = new TenantRegistry(() => metadata()?.state.clientQuotas() ?? [], settings.defaultQuotas);
  const tenantMetrics = new TenantMetrics(registry, now, () => {
    const state = metadata()?.state;
    const known = tenants.known();
    const topics = state === undefined ? new Map<string, number>() : tenantTopicCounts(state.topics(), known);
    return known.map((tenant) => {
      const limits = tenants.limits(tenant);
      return {
        tenant,
        connections: tenants.connectionCount(tenant),
        maxConnections: limits.maxConnections,
        topics: topics.get(tenant) ?? 0,
        maxTopics: limits.maxTopics,
        maxBandwidthBytesPerSecond: limits.maxBandwidthBytesPerSecond,
      };
    });
  });
  log.info(
    { jwtClaim: settings.jwtClaim, certificateField: settings.certificateField, defaultTenant: settings.defaultTenant, defaultQuotas: settings.defaultQuotas, superUsers: superUsers.principals },
    'multi-tenancy on: each connection is held to its tenant\'s namespace and quotas',
  );
  return {
    settings: {
      jwtClaim: settings.jwtClaim,
      certificateField: settings.certificateField,
      tenantOfName: (name) => (rules.length === 0 ? '' : mapPrincipal(rules, name, '')),
      defaultTenant: settings.defaultTenant,
      superUsers: new Set(superUsers.principals),
    },
    registry: tenants,
    metrics: tenantMetrics,
    refusals: rateLimitedLogger(log.child({ component: 'tenancy' }), new LineRateLimiter(REFUSALS_LOGGED, () => performance.now())),
  };
}

/**
 * Who may change the cluster through the HTTP admin API (decommissioning brokers and the like): with
 * an authorizer, those with ALTER on the cluster; with multi-tenancy, only super users as well (a
 * tenant's token must not reach the operators' routes, with or without ACLs). Undefined: any
 * authenticated principal, as before either existed.
 */
export function clusterChangeCheck(config: BrokerConfig, authorizer: Authorizer | null): ((principal: string, host: string) => boolean) | undefined {
  const byAcl = authorizer === null ? null : (principal: string, host: string) => authorizer.authorize({ principal, host }, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE);
  if (!config.multiTenancy.enabled) return byAcl ?? undefined;
  const parsed = parseSuperUsers(config.security.authorization.superUsers);
  const superUsers = new Set('problem' in parsed ? [] : parsed.principals);
  return (principal, host) => superUsers.has(principal) && (byAcl === null || byAcl(principal, host));
}
