/**
 * Client quotas at the request level (tenancy/client-quota-enforcer.ts holds the buckets): who a request
 * counts against (its connection's user and the request's client id, as Kafka's quota entities name
 * them) and what a request used. Produce counts its request bytes and every request its handler time
 * (request_percentage); Fetch counts its response bytes itself (01-fetch.ts), because a fetch over its
 * quota is answered with no records rather than after them. The longest throttle wins: it goes in the
 * response's throttle_time_ms and the connection reads nothing more for that long.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { requester } from './access.ts';
import type { BrokerContext } from './context.ts';
import type { RequestInfo } from './handler.ts';
import { chargeTenantBandwidth } from './tenant-access.ts';

/** The quota entity names of a request: the user without Kafka's `User:` prefix, and the client id. */
export function quotaClient(info: RequestInfo): { user: string; clientId: string } {
  const principal = requester(info.connection).principal;
  return { user: principal.startsWith('User:') ? principal.slice(5) : principal, clientId: info.header.clientId ?? '' };
}

/** Requests that are not throttled: those a client needs to learn about and pass authentication. */
const EXEMPT = new Set<number>([API_KEYS.ApiVersions, API_KEYS.SaslHandshake, API_KEYS.SaslAuthenticate]);

/**
 * Takes a produce request's bytes from its quota as it arrives, and throttles the connection at once
 * when that went over: a client pipelining many requests is stopped at the request that crossed the
 * quota, not after the appends of every request already read. A tenant's bandwidth is charged the
 * same way (multi-tenancy, tenant-access.ts). Returns the throttle time (0 for other
 * APIs, or within quota), for throttleRequest to put in the response.
 */
export function chargeOnArrival(ctx: BrokerContext, apiKey: number, frameBytes: number, info: RequestInfo): number {
  if (apiKey !== API_KEYS.Produce) return 0;
  let ms = 0;
  if (ctx.clientQuotas.active) {
    const { user, clientId } = quotaClient(info);
    ms = ctx.clientQuotas.record({ key: 'producer_byte_rate', amount: frameBytes }, user, clientId, ctx.now());
    if (ms > 0) ctx.metrics.quotaThrottled('producer_byte_rate', ms);
  }
  // The tenant's bandwidth (multi-tenancy): the same rule, on the tenant's bucket.
  ms = Math.max(ms, chargeTenantBandwidth(ctx, info.connection, 'in', frameBytes));
  if (ms > 0) info.connection.throttle(ms);
  return ms;
}

/**
 * After the handler: records its time against request_percentage, puts the longest throttle (the
 * produce charge, the fetch handler's own, the request time's) in `response` when it has the field, and
 * throttles the connection. `response` is the handler's answer (null for acks=0 produce).
 */
export function throttleRequest(ctx: BrokerContext, apiKey: number, arrivalThrottleMs: number, handlerMs: number, info: RequestInfo, response: { throttleTimeMs?: number } | null): void {
  if (EXEMPT.has(apiKey)) return;
  const fetched = response?.throttleTimeMs ?? 0;
  let time = 0;
  if (ctx.clientQuotas.active) {
    const { user, clientId } = quotaClient(info);
    time = ctx.clientQuotas.record({ key: 'request_percentage', amount: handlerMs }, user, clientId, ctx.now());
    if (time > 0) ctx.metrics.quotaThrottled('request_percentage', time);
  }
  const ms = Math.max(arrivalThrottleMs, fetched, time);
  if (ms <= 0) return;
  if (response !== null && 'throttleTimeMs' in response) response.throttleTimeMs = ms;
  if (fetched > 0 || time > 0) info.connection.throttle(Math.max(fetched, time));
}
