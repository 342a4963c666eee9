/**
 * The admin API's wiring (docs/admin-api.md): the topic, group and cluster routes of admin/ on a
 * loopback Kafka client acting as the caller, the broker routes of cluster-admin.ts, and the check of
 * HTTP Basic credentials against this broker's SASL users.
 *
 * Security follows the Kafka port's, because the routes go through it: with authentication off, the
 * admin API is as open as port 9092; with it on, every request needs credentials, and each operation
 * runs as the caller, under the same ACL checks as a Kafka client's request.
 */
import type { ConnectionOptions } from 'node:tls';
import type { BrokerConfig } from '../config/index.ts';
import { enabledAuthenticationMethods } from '../config/index.ts';
import type { AdminRoute } from '../http/admin-api.ts';
import { kafkaAdminRoutes } from '../admin/admin-routes.ts';
import { loopbackClient, verifyPassword, type LoopbackSettings } from '../admin/loopback-client.ts';
import type { Authorizer } from '../security/authorizer.ts';
import type { ServerTls } from '../security/server-tls.ts';
import { AclOperation, CLUSTER_RESOURCE, ResourceType } from '../metadata/acls.ts';
import { ClusterAdmin, type AdminNode } from './cluster-admin.ts';
import { clusterChangeCheck } from './build-tenancy.ts';

export interface AdminApi {
  readonly routes: readonly AdminRoute[];
  /** Checks Basic credentials (absent without a password method). */
  readonly basic?: (username: string, password: string) => Promise<string | null>;
  /** Told the Kafka listener's bound port once it accepts, and null when the broker stops. */
  listening(kafkaPort: number | null): void;
}

export interface AdminApiParts {
  config: BrokerConfig;
  tls?: ServerTls;
  authorizer: Authorizer | null;
  /** The metadata and cluster view once available; null before. */
  node: () => AdminNode | null;
}

/** How long one loopback Kafka request may take (Kafka's own default request timeout). */
const LOOPBACK_REQUEST_TIMEOUT_MS = 30_000;

export function buildAdminApi(parts: AdminApiParts): AdminApi {
  const { config, tls, authorizer } = parts;
  const methods = enabledAuthenticationMethods(config.security.authentication);
  let kafkaPort: number | null = null;
  const settings: LoopbackSettings = {
    bootstrap: () => (kafkaPort === null ? null : `${loopbackHost(config, tls !== undefined)}:${kafkaPort}`),
    ...(tls === undefined ? {} : { tls: () => loopbackTls(tls) }),
    authentication: config.security.authentication.enabled,
    passwordMechanism: methods.includes('scram-sha-512') ? 'SCRAM-SHA-512' : methods.includes('scram-sha-256') ? 'SCRAM-SHA-256' : methods.includes('plain') ? 'PLAIN' : null,
    bearer: methods.includes('jwt'),
    requestTimeoutMs: LOOPBACK_REQUEST_TIMEOUT_MS,
  };
  // Changes need ALTER on the cluster, and with multi-tenancy a super user (a tenant's token must not
  // decommission brokers even while authorization is off); reads need DESCRIBE.
  const mayAlter = clusterChangeCheck(config, authorizer);
  const mayDescribe = authorizer === null ? undefined : (principal: string, host: string) => authorizer.authorize({ principal, host }, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE);
  const brokers = new ClusterAdmin(parts.node, {
    ...(mayAlter === undefined && mayDescribe === undefined ? {} : { mayOnCluster: (operation: 'DESCRIBE' | 'ALTER', principal: string, host: string) => ((operation === 'ALTER' ? mayAlter : mayDescribe) ?? (() => true))(principal, host) }),
  });
  const routes = [...kafkaAdminRoutes({ clientFor: (caller) => loopbackClient(settings, caller), brokerStates: () => brokers.brokers() }), ...brokers.routes];
  return {
    routes,
    ...(settings.passwordMechanism === null || !settings.authentication ? {} : { basic: (username: string, password: string) => verifyPassword(settings, username, password) }),
    listening(port) {
      kafkaPort = port;
    },
  };
}

/**
 * Where this broker reaches its own Kafka listener: over TLS at its advertised name (the one its
 * certificate carries), otherwise at the bound address (a wildcard one through loopback).
 */
function loopbackHost(config: BrokerConfig, tls: boolean): string {
  const host = tls ? config.server.advertisedHost : config.server.host;
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * TLS to its own listener: the CA to check it, and this broker's certificate only where the listener
 * requires one. The principal is still the caller's: every loopback client authenticates with SASL when
 * authentication is on (loopback-client.ts), and a SASL principal replaces a certificate's.
 */
function loopbackTls(tls: ServerTls): ConnectionOptions {
  const { cert, key, passphrase, ca, minVersion } = { ...tls.contextOptions() } as ConnectionOptions & { cert: Buffer; key: Buffer };
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(minVersion === undefined ? {} : { minVersion }),
    ...(tls.settings.clientAuthRequired ? { cert, key, ...(passphrase === undefined ? {} : { passphrase }) } : {}),
  };
}
