/**
 * The admin API's way into the broker: a Kafka client to this broker's own Kafka listener, opened per
 * request with the HTTP caller's credentials (Basic as SASL SCRAM or PLAIN, a bearer token as
 * OAUTHBEARER). The broker then authenticates and authorizes the request exactly as on its Kafka port
 * (the same handlers, the same ACL checks): the HTTP port opens no second path around its security.
 * Requests for partitions led elsewhere reach the other brokers the way every Kafka client does.
 *
 * A fresh client per request: its metadata is never stale (a topic just deleted), and credentials are
 * never shared between callers. It costs a loopback connection and one SASL exchange per request.
 */
import type { ConnectionOptions } from 'node:tls';
import { KafkaClient, type SaslCredentials } from '../client/index.ts';
import { isStreamBusError } from '../util/errors.ts';
import type { AdminCaller } from '../http/admin-api.ts';

export interface LoopbackSettings {
  /** `host:port` of this broker's Kafka listener once it accepts; null before. */
  bootstrap(): string | null;
  /** TLS to the listener (security.tls), with this broker's certificate when the listener requires one. */
  tls?: () => ConnectionOptions;
  /** security.authentication.enabled: every request then needs the caller's SASL credentials. */
  authentication: boolean;
  /** The SASL mechanism Basic credentials are tried with (SCRAM preferred); null when no password method is enabled. */
  passwordMechanism: 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN' | null;
  /** Whether bearer tokens (method jwt, SASL OAUTHBEARER) are accepted. */
  bearer: boolean;
  requestTimeoutMs: number;
}

/** Why no client could be opened for a caller: the admin API answers 401 or 503 with it. */
export class LoopbackRefusal extends Error {
  constructor(
    readonly status: 401 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** The SASL credentials of a caller: none while authentication is off; a LoopbackRefusal when the caller has none usable. */
function saslOf(settings: LoopbackSettings, caller: AdminCaller): SaslCredentials | undefined {
  if (!settings.authentication) return undefined;
  const c = caller.credentials;
  if (c?.kind === 'basic' && settings.passwordMechanism !== null) return { mechanism: settings.passwordMechanism, username: c.username, password: c.password };
  if (c?.kind === 'bearer' && settings.bearer) return { mechanism: 'OAUTHBEARER', token: c.token };
  const ways = [settings.passwordMechanism === null ? null : 'Authorization: Basic (a SCRAM or PLAIN user)', settings.bearer ? 'Authorization: Bearer <JWT>' : null].filter((w) => w !== null);
  throw new LoopbackRefusal(
    401,
    ways.length === 0
      ? 'the topic, group and cluster routes act through the Kafka API as the caller, which needs a SASL method (scram-sha-*, plain or jwt) enabled; a client certificate alone is taken by the broker routes only'
      : `the topic, group and cluster routes act through the Kafka API as the caller: send ${ways.join(' or ')}`,
  );
}

/** A client acting as `caller`; close() it after the request. Throws LoopbackRefusal. */
export function loopbackClient(settings: LoopbackSettings, caller: AdminCaller): KafkaClient {
  const sasl = saslOf(settings, caller);
  const bootstrap = settings.bootstrap();
  if (bootstrap === null) throw new LoopbackRefusal(503, 'the broker is not serving Kafka requests yet; retry once /health/ready answers 200');
  return new KafkaClient({
    bootstrap,
    clientId: 'streambus-admin-api',
    requestTimeoutMs: settings.requestTimeoutMs,
    connectTimeoutMs: Math.min(settings.requestTimeoutMs, 10_000),
    ...(settings.tls === undefined ? {} : { tls: settings.tls() }),
    ...(sasl === undefined ? {} : { sasl }),
  });
}

/**
 * Checks Basic credentials the way the Kafka port does (a SASL exchange with this broker): the principal
 * `User:<name>`, or null when refused. Throws when the broker cannot be asked (not listening yet).
 */
export async function verifyPassword(settings: LoopbackSettings, username: string, password: string): Promise<string | null> {
  if (settings.passwordMechanism === null) return null;
  const client = loopbackClient({ ...settings, authentication: true }, { principal: null, credentials: { kind: 'basic', username, password }, host: '' });
  try {
    await client.connect();
    return `User:${username}`;
  } catch (err) {
    if (isStreamBusError(err, 'SB_ERR_SASL')) return null;
    throw err;
  } finally {
    client.close();
  }
}
