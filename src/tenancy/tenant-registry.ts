/**
 * The tenants of this broker: each tenant's limits (its `tenant` quota entity, else the `tenant=<default>`
 * entity, else multiTenancy.defaultQuotas; read from the metadata on every use, so a change applies
 * without a restart) and the connections each holds open here. Connections are counted per broker:
 * maxConnections holds on each broker on its own, as Kafka's connection quotas do. Pure (no clock).
 */
import { isTenantRecord, type ClientQuotaRecord, type TenantQuotaKey } from '../metadata/client-quotas.ts';
import { assert } from '../util/assert.ts';

export interface TenantDefaults {
  readonly maxTopics: number;
  readonly maxConnections: number;
  readonly maxBandwidthMBps: number;
}

export interface TenantLimits {
  readonly maxTopics: number;
  readonly maxConnections: number;
  /** Produce plus fetch bytes per second on this broker. */
  readonly maxBandwidthBytesPerSecond: number;
}

/** Tenants remembered for the metrics (those seen here or with quotas): enough for any real deployment, bounded for a hostile one. */
const KNOWN_TENANTS_MAX = 10_000;

export class TenantRegistry {
  private readonly connections = new Map<string, number>();
  private readonly seen = new Set<string>();
  private limitsFrom: readonly ClientQuotaRecord[] | null = null;
  private readonly limitsOf = new Map<string, TenantLimits>();

  constructor(
    private readonly quotas: () => readonly ClientQuotaRecord[],
    private readonly defaults: TenantDefaults,
  ) {
    assert(defaults.maxTopics >= 1 && defaults.maxConnections >= 1, 'tenant defaults allow at least one topic and connection');
    assert(defaults.maxBandwidthMBps > 0, 'tenant default bandwidth is positive');
  }

  /** The limits of `tenant` now. */
  limits(tenant: string): TenantLimits {
    const records = this.quotas();
    if (records !== this.limitsFrom) {
      this.limitsFrom = records;
      this.limitsOf.clear();
    }
    let limits = this.limitsOf.get(tenant);
    if (limits === undefined) {
      limits = tenantLimits(records, tenant, this.defaults);
      if (this.limitsOf.size >= KNOWN_TENANTS_MAX) this.limitsOf.clear();
      this.limitsOf.set(tenant, limits);
    }
    return limits;
  }

  /** Counts one more connection of `tenant`, or says why it is refused (at its maxConnections). */
  admit(tenant: string): string | null {
    const open = this.connections.get(tenant) ?? 0;
    const max = this.limits(tenant).maxConnections;
    if (open >= max) return `tenant ${tenant} already has ${open} connections to this broker, its maxConnections quota (${max})`;
    this.connections.set(tenant, open + 1);
    if (this.seen.size < KNOWN_TENANTS_MAX) this.seen.add(tenant);
    return null;
  }

  /** One connection of `tenant` closed (one that admit counted). */
  release(tenant: string): void {
    const open = this.connections.get(tenant) ?? 0;
    assert(open > 0, 'a tenant connection released that was never admitted');
    if (open === 1) this.connections.delete(tenant);
    else this.connections.set(tenant, open - 1);
  }

  /** Connections `tenant` holds open on this broker. */
  connectionCount(tenant: string): number {
    return this.connections.get(tenant) ?? 0;
  }

  /** Tenants seen on this broker since it started, and those with quotas of their own. */
  known(): string[] {
    const names = new Set(this.seen);
    for (const r of this.quotas()) if (isTenantRecord(r) && r.entity[0]!.name !== null) names.add(r.entity[0]!.name);
    return [...names].sort();
  }
}

/** The limits of `tenant` from the stored tenant quotas and the configured defaults. */
export function tenantLimits(records: readonly ClientQuotaRecord[], tenant: string, defaults: TenantDefaults): TenantLimits {
  let own: ClientQuotaRecord | undefined;
  let fallback: ClientQuotaRecord | undefined;
  for (const r of records) {
    if (!isTenantRecord(r)) continue;
    const name = r.entity[0]!.name;
    if (name === tenant) own = r;
    else if (name === null) fallback = r;
  }
  const value = (key: TenantQuotaKey, configured: number): number => own?.values[key] ?? fallback?.values[key] ?? configured;
  return {
    maxTopics: value('max_topics', defaults.maxTopics),
    maxConnections: value('max_connections', defaults.maxConnections),
    maxBandwidthBytesPerSecond: value('max_bandwidth_mbps', defaults.maxBandwidthMBps) * 1e6,
  };
}
