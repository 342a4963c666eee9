/**
 * Enforces client quotas (metadata/client-quotas.ts) on this broker, as Kafka does: each broker holds
 * every client to the whole quota on its own (a client spread over three brokers may reach three times
 * it), and a client over its quota is slowed, never refused: the response carries throttle_time_ms and
 * the broker reads nothing more from the connection for that long (KIP-219), so clients that honour the
 * field and clients that do not are held alike.
 *
 * Method: a token bucket per quota entity and quota, refilled at the quota's rate and holding at most
 * one second of it, so a client may burst a second's worth and is held to the rate over any longer
 * span. What a request used is taken after the fact (a produce request's bytes, a fetch response's
 * bytes, a request's handler time); the debt left is the throttle time. Pure (the caller gives the time).
 */
import { entityKey, isTenantRecord, resolveQuota, type ClientQuotaRecord, type QuotaEntityPart, type QuotaKey } from '../metadata/client-quotas.ts';

/** The longest a single response is throttled (Kafka's default window: 11 samples of a second). */
export const MAX_THROTTLE_MS = 11_000;
/** Seconds of the quota a bucket holds: the burst a client may take before it is throttled. */
export const BURST_SECONDS = 1;
/** Buckets untouched this long are dropped (they would be full again anyway); checked every SWEEP_EVERY records. */
const IDLE_BUCKET_MS = 60_000;
const SWEEP_EVERY = 4096;

interface Bucket {
  tokens: number;
  rate: number;
  atMs: number;
}

export interface QuotaUse {
  readonly key: QuotaKey;
  /** Bytes, or handler milliseconds for request_percentage. */
  readonly amount: number;
}

export class ClientQuotaEnforcer {
  private readonly buckets = new Map<string, Bucket>();
  private records = 0;
  private resolvedFrom: readonly ClientQuotaRecord[] | null = null;
  private anyClientQuota = false;
  private readonly resolved = new Map<string, { value: number; entity: readonly QuotaEntityPart[] } | null>();

  constructor(private readonly quotas: () => readonly ClientQuotaRecord[]) {}

  /** Whether any client quota is set (tenant quotas do not count): without one, callers skip the per-request work (the usual case). */
  get active(): boolean {
    this.refresh();
    return this.anyClientQuota;
  }

  /**
   * Takes `amount` from the bucket named `id`, refilled at `rate` per second (a tenant's bandwidth,
   * tenancy/tenant-registry.ts): the same buckets and throttle rule as client quotas. Returns how long
   * to throttle.
   */
  take(id: string, rate: number, amount: number, nowMs: number): number {
    if (++this.records % SWEEP_EVERY === 0) this.sweep(nowMs, IDLE_BUCKET_MS);
    const bucket = this.refill(`tenant|${id}`, rate, nowMs);
    bucket.tokens -= amount;
    return throttleOf(bucket);
  }

  /** As owed, for a bucket of take. */
  owedOn(id: string, rate: number, nowMs: number): number {
    return throttleOf(this.refill(`tenant|${id}`, rate, nowMs));
  }

  /**
   * Takes `use` from the quota of the connection's `user` and `clientId`; returns how long to throttle
   * (0 within quota, or when no quota applies).
   */
  record(use: QuotaUse, user: string, clientId: string, nowMs: number): number {
    if (++this.records % SWEEP_EVERY === 0) this.sweep(nowMs, IDLE_BUCKET_MS);
    const bucket = this.bucket(use.key, user, clientId, nowMs);
    if (bucket === null) return 0;
    bucket.tokens -= use.amount;
    return throttleOf(bucket);
  }

  /** The throttle time a connection owes already (a fetch over quota is then answered empty), without taking anything. */
  owed(key: QuotaKey, user: string, clientId: string, nowMs: number): number {
    const bucket = this.bucket(key, user, clientId, nowMs);
    return bucket === null ? 0 : throttleOf(bucket);
  }

  /** The quota that applies, refilled to `nowMs`; null without one. */
  private bucket(key: QuotaKey, user: string, clientId: string, nowMs: number): Bucket | null {
    const quota = this.resolve(key, user, clientId);
    if (quota === null) return null;
    // request_percentage: percent of one thread's time, i.e. quota * 10 ms of handler time per second.
    const rate = key === 'request_percentage' ? quota.value * 10 : quota.value;
    // As Kafka: a quota set for an entity is shared by all its connections; one from a default entity
    // is given to each user (or client id) on its own.
    const id = `${key}|${entityKey(quota.entity.map((p) => (p.name !== null ? p : { type: p.type, name: p.type === 'user' ? user : clientId })))}`;
    return this.refill(id, rate, nowMs);
  }

  /** The bucket `id` at `rate`, refilled to `nowMs` (made full when new). */
  private refill(id: string, rate: number, nowMs: number): Bucket {
    let bucket = this.buckets.get(id);
    if (bucket === undefined) {
      bucket = { tokens: rate * BURST_SECONDS, rate, atMs: nowMs };
      this.buckets.set(id, bucket);
    }
    if (bucket.rate !== rate) {
      // A changed quota applies from now: the burst is measured in the new rate.
      bucket.tokens = Math.min(bucket.tokens, rate * BURST_SECONDS);
      bucket.rate = rate;
    }
    if (nowMs > bucket.atMs) {
      bucket.tokens = Math.min(rate * BURST_SECONDS, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * rate);
      bucket.atMs = nowMs;
    }
    return bucket;
  }

  /** The metadata replaces the list on every change: forget what was resolved from the old one. */
  private refresh(): readonly ClientQuotaRecord[] {
    const records = this.quotas();
    if (records !== this.resolvedFrom) {
      this.resolvedFrom = records;
      this.resolved.clear();
      this.anyClientQuota = records.some((r) => !isTenantRecord(r));
    }
    return records;
  }

  private resolve(key: QuotaKey, user: string, clientId: string): { value: number; entity: readonly QuotaEntityPart[] } | null {
    const records = this.refresh();
    if (!this.anyClientQuota) return null;
    const k = `${key}\u0000${user}\u0000${clientId}`;
    let quota = this.resolved.get(k);
    if (quota === undefined) {
      quota = resolveQuota(records, key, user, clientId);
      if (this.resolved.size > 100_000) this.resolved.clear();
      this.resolved.set(k, quota);
    }
    return quota;
  }

  /** Buckets kept (one per entity and quota in use). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Drops buckets untouched for `idleMs` (an entity that stopped sending; refilled, it would be full),
   * so a stream of client ids does not grow the map without bound.
   */
  sweep(nowMs: number, idleMs: number): void {
    for (const [id, b] of this.buckets) if (nowMs - b.atMs >= idleMs && b.tokens + ((nowMs - b.atMs) / 1000) * b.rate >= b.rate * BURST_SECONDS) this.buckets.delete(id);
  }
}

function throttleOf(bucket: Bucket): number {
  if (bucket.tokens >= 0) return 0;
  return Math.min(MAX_THROTTLE_MS, Math.ceil((-bucket.tokens / bucket.rate) * 1000));
}
