/**
 * How the CLI reaches a broker's HTTP port when the broker's own configuration says where it is:
 * the address this machine reaches it on, and TLS as the broker serves it (its CA file and advertised
 * name; for the admin API also the broker's certificate and key as the client certificate, so that a
 * command run on a broker host with the guide's mTLS settings needs no flags). Shared by
 * `streambus health` and the admin commands (broker decommission, list, ...).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { isWildcardHost, type BrokerConfig } from '../config/index.ts';
import { UsageError } from './client-command.ts';

/** Where the deployment guide keeps a broker's configuration; the admin commands read it when present. */
export const GUIDE_CONFIG_PATH = '/etc/streambus/broker.yaml';

/** Where this machine reaches the broker's HTTP listener: a wildcard bind is reached on loopback. */
export function localHttpAddress(config: BrokerConfig): string {
  const host = isWildcardHost(config.server.host) ? '127.0.0.1' : config.server.host;
  // A literal IPv6 address goes in brackets inside a URL.
  const hostInUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${hostInUrl}:${config.server.httpPort}`;
}

function readSetting(key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`${key} ${path}: ${(err as Error).message}`);
  }
}

/**
 * TLS as the broker serves it, or undefined when it serves plain HTTP: its CA file, and its advertised
 * name for the certificate's name check (the CLI dials an address, the certificate names the host).
 * With `clientCertificate`, the broker's own certificate and key go along as the client's.
 */
export function httpTlsFromConfig(config: BrokerConfig, options: { clientCertificate: boolean }): ConnectionOptions | undefined {
  const tls = config.security.tls;
  if (!tls.enabled) return undefined;
  const ca = tls.caFile === '' ? undefined : readSetting('security.tls.caFile', tls.caFile);
  const client =
    options.clientCertificate && tls.certFile !== '' && tls.keyFile !== ''
      ? {
          cert: readSetting('security.tls.certFile', tls.certFile),
          key: readSetting('security.tls.keyFile', tls.keyFile),
          ...(tls.keyPassphrase === '' ? {} : { passphrase: tls.keyPassphrase }),
        }
      : {};
  // The certificate must name the advertised host; a host name also goes as SNI, an address may not.
  const host = config.server.advertisedHost;
  const identity = isIP(host) === 0 ? { servername: host } : { checkServerIdentity: (_dialed: string, cert: PeerCertificate) => checkServerIdentity(host, cert) };
  return { ...identity, ...(ca === undefined ? {} : { ca }), ...client };
}

/**
 * The configuration's TLS with the TLS flags laid over it, field by field: --ca-file replaces the
 * CA, --cert-file and --key-file the client certificate (the configuration's key passphrase goes
 * with the configuration's key only); the name check stays the configuration's. Either alone is
 * taken as it is; neither is plain HTTP.
 */
export function withTlsFlags(fromConfig: ConnectionOptions | undefined, flagged: ConnectionOptions | undefined): ConnectionOptions | undefined {
  if (flagged === undefined) return fromConfig;
  if (fromConfig === undefined) return flagged;
  if (flagged.cert === undefined) return { ...fromConfig, ...flagged };
  const { cert: _cert, key: _key, passphrase: _passphrase, ...withoutClientCertificate } = fromConfig;
  return { ...withoutClientCertificate, ...flagged };
}

/**
 * The configuration file an admin command reads when it is not told the broker's address: --config,
 * else the guide's path when that file exists, else none (the command then dials 127.0.0.1:8081).
 */
export function adminConfigPath(config: string | undefined, guidePath = GUIDE_CONFIG_PATH): string | undefined {
  if (config !== undefined) return config;
  return existsSync(guidePath) ? guidePath : undefined;
}
