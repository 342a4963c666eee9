/**
 * Rules between keys, checked once every key has a valid value of its own type. Each problem is
 * reported at the key the user set (so it carries that key's file and line, variable or flag).
 */
import type { KeyPath } from './broker-config.ts';
import { valueProblem, type ConfigProblem, type Origin } from './config-error.ts';
import { formatDuration } from './value-types.ts';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '*']);

/** Whether `host` means "every address" (a listener can bind to it; nobody can connect to it). */
export function isWildcardHost(host: string): boolean {
  return WILDCARDS.has(host);
}

export function crossChecks(get: (key: KeyPath) => unknown, origin: (key: KeyPath) => Origin): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const isSet = (key: KeyPath) => origin(key).kind !== 'default';
  /** The key to blame for a conflict between two keys: the one the user set, preferring `b`. */
  const blame = (a: KeyPath, b: KeyPath): KeyPath => (isSet(b) || !isSet(a) ? b : a);
  const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));
  /** `got` is shown as is: callers quote strings with show() and give durations their unit. */
  const report = (key: KeyPath, expected: string, got: string, note?: string) => problems.push(valueProblem(origin(key), key, expected, got, note));

  const port = get('server.port') as number;
  const httpPort = get('server.httpPort') as number;
  if (port === httpPort) {
    const key = blame('server.port', 'server.httpPort');
    const other = key === 'server.port' ? 'server.httpPort' : 'server.port';
    report(key, `a port other than ${other} (${get(other)})`, show(get(key)), 'the Kafka and HTTP listeners cannot share a port');
  }
  // The broker-to-broker port only matters once that listener exists, or when the user chose it.
  // The inter-broker port is opened only by a broker of a cluster (cluster.nodes names other brokers).
  const inCluster = (get('cluster.nodes') as readonly { id: number }[]).some((n) => n.id !== get('server.brokerId'));
  if (isSet('server.grpcPort') || inCluster) {
    const grpcPort = get('server.grpcPort') as number;
    for (const other of ['server.port', 'server.httpPort'] as const) {
      if (grpcPort === get(other)) report('server.grpcPort', `a port other than ${other} (${get(other)})`, show(grpcPort), 'each listener needs its own port');
    }
  }

  const advertised = get('server.advertisedHost') as string;
  if (isWildcardHost(advertised)) {
    const key = isSet('server.advertisedHost') ? 'server.advertisedHost' : 'server.host';
    report(key, 'a host name or address clients can connect to', show(advertised),
      isSet('server.advertisedHost') ? 'a wildcard address cannot be advertised' : 'server.host is a wildcard address, so set server.advertisedHost');
  }

  if ((get('raft.electionTimeout') as number) <= (get('raft.heartbeatTimeout') as number)) {
    const key = blame('raft.heartbeatTimeout', 'raft.electionTimeout');
    report(key, key === 'raft.electionTimeout' ? 'a duration greater than raft.heartbeatTimeout' : 'a duration less than raft.electionTimeout',
      formatDuration(get(key) as number), 'a follower must hear several heartbeats before it stands for election');
  }

  const maxFrameBytes = get('kafka.maxFrameBytes') as number;
  if ((get('kafka.messageMaxBytes') as number) > maxFrameBytes) {
    const key = blame('kafka.maxFrameBytes', 'kafka.messageMaxBytes');
    report(key, key === 'kafka.messageMaxBytes' ? `at most kafka.maxFrameBytes (${maxFrameBytes})` : `at least kafka.messageMaxBytes (${get('kafka.messageMaxBytes')})`,
      show(get(key)), 'a record batch travels inside one request frame');
  }
  if ((get('kafka.maxBufferedBytesPerConnection') as number) < maxFrameBytes) {
    const key = blame('kafka.maxFrameBytes', 'kafka.maxBufferedBytesPerConnection');
    report(key, key === 'kafka.maxFrameBytes' ? `at most kafka.maxBufferedBytesPerConnection (${get('kafka.maxBufferedBytesPerConnection')})` : `at least kafka.maxFrameBytes (${maxFrameBytes})`,
      show(get(key)), 'a connection must be able to buffer its largest frame');
  }

  if (get('security.tls.enabled') === true) {
    for (const key of ['security.tls.certFile', 'security.tls.keyFile'] as const) {
      if (get(key) === '') report(key, 'a file path', '""', 'security.tls.enabled is true');
    }
    if (inCluster && get('security.tls.caFile') === '') {
      report('security.tls.caFile', 'a file path', '""', 'security.tls.enabled in a cluster: brokers prove to each other that they belong with certificates signed by it');
    } else if (get('security.tls.clientAuthRequired') === true && get('security.tls.caFile') === '') {
      report('security.tls.caFile', 'a file path', '""', 'security.tls.clientAuthRequired is true: client certificates are checked against it');
    }
  }
  const authOn = get('security.authentication.enabled') === true;
  const listed = get('security.authentication.methods') as readonly string[];
  const methods: readonly string[] = !authOn ? [] : listed.length > 0 ? listed : [get('security.authentication.method') as string];
  // The key a method's requirement is blamed on: the list when it was used, else `method`.
  const methodKey = listed.length > 0 ? 'security.authentication.methods has' : 'security.authentication.method is';
  const needsTls = (method: string, why: string) => {
    if (methods.includes(method) && get('security.tls.enabled') !== true) report('security.tls.enabled', 'true', show(get('security.tls.enabled')), `${methodKey} ${method}: ${why}`);
  };
  needsTls('jwt', 'bearer tokens must not cross the network in the clear');
  needsTls('plain', 'SASL PLAIN sends passwords, which must not cross the network in the clear');
  if (methods.includes('jwt')) {
    for (const key of ['security.authentication.jwt.issuer', 'security.authentication.jwt.audience'] as const) {
      if (get(key) === '') report(key, 'a value every token must carry', '""', `${methodKey} jwt`);
    }
    const keyFile = get('security.authentication.jwt.keyFile') as string;
    const jwksUrl = get('security.authentication.jwt.jwksUrl') as string;
    if ((keyFile === '') === (jwksUrl === '')) {
      const key = keyFile === '' ? 'security.authentication.jwt.keyFile' : 'security.authentication.jwt.jwksUrl';
      report(key, keyFile === '' ? 'a PEM public key or JWKS file (or jwt.jwksUrl)' : '"" (jwt.keyFile is set: one source of keys)', show(get(key)), `${methodKey} jwt`);
    }
    if (jwksUrl !== '') {
      let url: URL | null = null;
      try {
        url = new URL(jwksUrl);
      } catch {
        url = null;
      }
      // Keys fetched in the clear could be replaced on the way: https, except from this machine.
      const local = url !== null && url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if (url === null || (url.protocol !== 'https:' && !local)) {
        report('security.authentication.jwt.jwksUrl', 'an https:// URL (http:// only on this machine)', show(jwksUrl), 'the keys that verify tokens must not be fetched over an unauthenticated connection');
      }
    }
    if (String(get('security.authentication.jwt.algorithms')).split(',').some((a) => a.trim().toLowerCase() === 'none')) {
      report('security.authentication.jwt.algorithms', 'signature algorithms such as RS256,ES256', show(get('security.authentication.jwt.algorithms')), 'unsigned tokens ("none") prove nothing');
    }
  }
  if (methods.includes('mtls')) {
    if (methods.length === 1 && (get('security.tls.enabled') !== true || get('security.tls.clientAuthRequired') !== true)) {
      // mtls alone: every client must present a certificate.
      const key = get('security.tls.enabled') !== true ? 'security.tls.enabled' : 'security.tls.clientAuthRequired';
      report(key, 'true', show(get(key)), 'security.authentication.method mtls identifies clients by their TLS certificate');
    } else if (methods.length > 1 && (get('security.tls.enabled') !== true || get('security.tls.caFile') === '')) {
      // Among others: certificates are asked for and checked against caFile, but not required.
      const key = get('security.tls.enabled') !== true ? 'security.tls.enabled' : 'security.tls.caFile';
      report(key, key === 'security.tls.caFile' ? 'a file path' : 'true', show(get(key)), `${methodKey} mtls: client certificates are checked against security.tls.caFile`);
    }
  }
  const bootstrapUser = get('security.authentication.scram.bootstrapUser') as string;
  const usesPasswords = methods.some((m) => m === 'plain' || m.startsWith('scram'));
  if (bootstrapUser !== '' && get('security.authentication.scram.bootstrapPassword') === '') {
    report('security.authentication.scram.bootstrapPassword', 'the bootstrap user\'s password', '""', 'security.authentication.scram.bootstrapUser is set');
  }
  if (bootstrapUser !== '' && !usesPasswords) {
    report('security.authentication.scram.bootstrapUser', '"" (no SCRAM or PLAIN method is enabled)', show(bootstrapUser), 'a bootstrap user logs in with SCRAM or PLAIN');
  }

  for (const key of ['metrics.requireAuthentication', 'health.requireAuthentication'] as const) {
    if (get(key) === true && (get('security.tls.enabled') !== true || get('security.tls.caFile') === '')) {
      const missing = get('security.tls.enabled') !== true ? 'security.tls.enabled' : 'security.tls.caFile';
      report(missing, missing === 'security.tls.enabled' ? 'true' : 'a file path', show(get(missing)), `${key}: client certificates are checked over TLS against security.tls.caFile`);
    }
  }
  if (get('security.authorization.enabled') === true && get('security.authentication.enabled') !== true) {
    report('security.authentication.enabled', 'true', show(get('security.authentication.enabled')), 'security.authorization.enabled: ACLs name authenticated principals; without authentication every client is User:ANONYMOUS');
  }

  if (get('observability.tracing.enabled') === true && get('observability.tracing.endpoint') === '') {
    report('observability.tracing.endpoint', 'a collector address such as jaeger-collector:4317', '""', 'observability.tracing.enabled is true');
  }

  const httpPaths: KeyPath[] = [];
  if (get('metrics.enabled') === true) httpPaths.push('metrics.path');
  if (get('health.enabled') === true) httpPaths.push('health.livenessPath', 'health.readinessPath');
  httpPaths.forEach((key, i) => {
    const clash = httpPaths.slice(0, i).find((other) => get(other) === get(key));
    if (clash === undefined) return;
    const blamed = blame(clash, key);
    const other = blamed === key ? clash : key;
    report(blamed, `a path other than ${other} (${get(other)})`, show(get(blamed)), 'each endpoint needs its own HTTP path');
  });

  const nodes = get('cluster.nodes') as readonly { id: number; host: string; port: number; grpcPort: number }[];
  const own = nodes.find((n) => n.id === get('server.brokerId'));
  // A broker outside the list joins the cluster the list names (an added broker, docs/operations.md);
  // a list of one is a single broker, which opens no inter-broker port to join through.
  if (nodes.length === 1 && own === undefined) {
    const key = blame('cluster.nodes', 'server.brokerId');
    report(key, key === 'server.brokerId' ? `${nodes[0]!.id}, the id of the only broker in cluster.nodes` : `a list that includes server.brokerId (${get('server.brokerId')}) or names at least 2 brokers`,
      key === 'server.brokerId' ? show(get(key)) : `only broker ${nodes[0]!.id}`, 'a broker joins a cluster of at least 2 listed brokers; one listed broker runs alone');
  }
  const grpcPort = get('server.grpcPort') as number;
  if (own === undefined && nodes.length > 1) {
    if ((get('server.brokerId') as number) < 1) report('server.brokerId', 'an id from 1 for a broker of a cluster', show(get('server.brokerId')), 'Raft reserves 0 for "no node"');
    if (get('raft.enabled') !== true) report('raft.enabled', 'true when cluster.nodes names other brokers', 'false', 'a cluster replicates its metadata through Raft');
    const clash = nodes.find((n) => n.host === get('server.advertisedHost') && (n.port === port || n.grpcPort === grpcPort));
    if (clash !== undefined) report('server.grpcPort', `ports other than broker ${clash.id}'s on host ${clash.host}`, `${port} and ${grpcPort}`, 'this broker is not in cluster.nodes, so it needs ports of its own');
  }
  if (own !== undefined && nodes.length > 1) {
    // This broker's entry is what the others dial and what clients are sent to: it must be where it listens.
    if (own.port !== port) report('cluster.nodes', `port ${port} (server.port) in the entry of broker ${own.id}`, String(own.port), 'the entry says where this broker listens for clients');
    if (own.grpcPort !== grpcPort) report('server.grpcPort', `${own.grpcPort}, the grpcPort of broker ${own.id} in cluster.nodes`, String(grpcPort), 'the entry says where the other brokers reach this one');
    const zero = nodes.find((n) => n.id === 0);
    if (zero !== undefined) report('cluster.nodes', 'broker ids from 1 in a cluster', 'id 0', 'Raft reserves 0 for "no node"; number the brokers from 1, as the deployment guide does');
    if (get('raft.enabled') !== true) report('raft.enabled', 'true when cluster.nodes names other brokers', 'false', 'a cluster replicates its metadata through Raft');
  }
  const endpoints = new Map<string, number>();
  for (const n of nodes) {
    for (const p of [n.port, n.grpcPort]) {
      const at = `${n.host}:${p}`;
      const other = endpoints.get(at);
      if (other !== undefined && other !== n.id) report('cluster.nodes', `distinct ports for every node on one host`, `nodes ${other} and ${n.id} both at ${at}`, 'give each broker on a shared host its own port and grpcPort');
      endpoints.set(at, n.id);
    }
    if (n.port === n.grpcPort) report('cluster.nodes', `a grpcPort other than the port for node ${n.id}`, `both ${n.port}`, 'each listener needs its own port');
  }
  return problems;
}
