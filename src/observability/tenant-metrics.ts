/**
 * Metrics per tenant (docs/multi-tenancy.md), on this broker:
 *   streambus_tenant_bytes_in_total                  produce request bytes, the bytes the bandwidth quota counts
 *   streambus_tenant_bytes_out_total                 fetch response bytes, likewise
 *   streambus_tenant_throttle_seconds_total          time the tenant's connections were throttled for its bandwidth
 *   streambus_tenant_connections                     connections open to this broker
 *   streambus_tenant_topics                          topics the tenant owns in the cluster
 *   streambus_tenant_quota_utilisation_ratio{quota}  use over limit: connections and topics now, bandwidth
 *                                                    averaged since the previous scrape (1 = at its limit)
 * Gauges are computed when scraped, from `sample`. Tenants are the ones the broker has seen or that have
 * quotas of their own (bounded, tenancy/tenant-registry.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface TenantSample {
  readonly tenant: string;
  readonly connections: number;
  readonly maxConnections: number;
  readonly topics: number;
  readonly maxTopics: number;
  readonly maxBandwidthBytesPerSecond: number;
}

export class TenantMetrics {
  private readonly bytesIn: Counter;
  private readonly bytesOut: Counter;
  private readonly throttleSeconds: Counter;
  /** Bytes in plus out per tenant since the last scrape, for the bandwidth utilisation. */
  private readonly recent = new Map<string, number>();
  private lastScrapeMs: number;

  constructor(registry: Registry, now: () => number, sample: () => TenantSample[]) {
    this.bytesIn = new Counter({ name: 'streambus_tenant_bytes_in_total', help: 'Produce request bytes, by tenant', labelNames: ['tenant'], registers: [registry] });
    this.bytesOut = new Counter({ name: 'streambus_tenant_bytes_out_total', help: 'Fetch response bytes, by tenant', labelNames: ['tenant'], registers: [registry] });
    this.throttleSeconds = new Counter({
      name: 'streambus_tenant_throttle_seconds_total',
      help: 'Time connections were throttled for their tenant bandwidth quota, by tenant',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.lastScrapeMs = now();
    const self = this;
    let samples: TenantSample[] = [];
    // prom-client collects gauges one after another: the first takes the sample the others read.
    new Gauge({
      name: 'streambus_tenant_connections',
      help: 'Connections open to this broker, by tenant',
      labelNames: ['tenant'],
      registers: [registry],
      collect() {
        samples = sample();
        this.reset();
        for (const s of samples) {
          this.set({ tenant: s.tenant }, s.connections);
          // Every known tenant's counters exist from 0, so rate() over them (and alerts) work before a first byte or throttle.
          for (const counter of [self.bytesIn, self.bytesOut, self.throttleSeconds]) counter.inc({ tenant: s.tenant }, 0);
        }
      },
    });
    new Gauge({
      name: 'streambus_tenant_topics',
      help: 'Topics owned in the cluster, by tenant',
      labelNames: ['tenant'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of samples) this.set({ tenant: s.tenant }, s.topics);
      },
    });
    new Gauge({
      name: 'streambus_tenant_quota_utilisation_ratio',
      help: 'Use over limit by tenant and quota (connections on this broker, topics in the cluster, bandwidth on this broker since the previous scrape)',
      labelNames: ['tenant', 'quota'],
      registers: [registry],
      collect() {
        this.reset();
        const at = now();
        const seconds = Math.max(0.001, (at - self.lastScrapeMs) / 1000);
        self.lastScrapeMs = at;
        for (const s of samples) {
          this.set({ tenant: s.tenant, quota: 'max_connections' }, s.connections / s.maxConnections);
          this.set({ tenant: s.tenant, quota: 'max_topics' }, s.topics / s.maxTopics);
          this.set({ tenant: s.tenant, quota: 'max_bandwidth_mbps' }, (self.recent.get(s.tenant) ?? 0) / seconds / s.maxBandwidthBytesPerSecond);
        }
        self.recent.clear();
      },
    });
  }

  produced(tenant: string, bytes: number): void {
    this.bytesIn.inc({ tenant }, bytes);
    this.recent.set(tenant, (this.recent.get(tenant) ?? 0) + bytes);
  }

  fetched(tenant: string, bytes: number): void {
    this.bytesOut.inc({ tenant }, bytes);
    this.recent.set(tenant, (this.recent.get(tenant) ?? 0) + bytes);
  }

  throttled(tenant: string, ms: number): void {
    this.throttleSeconds.inc({ tenant }, ms / 1000);
  }
}
