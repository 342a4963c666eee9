/**
 * The configuration schema: one row per key, the single source of truth for types, defaults, ranges,
 * documentation, secrecy, environment variable and command-line flag names, and whether the feature
 * behind the key exists yet. The loader, the validator, `printConfig`, the CLI flags and
 * docs/configuration.md (scripts/gen-config-doc.ts) are all driven by this table.
 *
 * The compiler checks the table against BrokerConfig: a key missing here, a key here that BrokerConfig
 * lacks, or a default of the wrong type is a type error.
 */
import { join } from 'node:path';
import type { BrokerConfig, KeyPath, ValueAt } from './broker-config.ts';
import {
  boolean, duration, host, integer, logOutput, nodeList, number, oneOf, optionalPath, setOf, path, port, size, string, urlPath,
  type ValueType,
} from './value-types.ts';

/**
 * Features that are configured but not built yet. Their keys are accepted, typed and validated, and
 * the broker lists the ones a user set as "not active yet". Flip a feature to true when it ships.
 */
export type Feature = 'cluster' | 'raft' | 'grpc' | 'tls' | 'authentication' | 'multiTenancy' | 'tracing' | 'compaction';
export const FEATURES: Readonly<Record<Feature, boolean>> = {
  cluster: true,
  raft: true,
  grpc: true,
  tls: true,
  authentication: true,
  multiTenancy: true,
  tracing: true,
  compaction: true,
};

/** A default computed from another key's final value (after paths were resolved). */
export class Derived<T> {
  constructor(
    readonly from: KeyPath,
    readonly compute: (value: never) => T,
    /** How the documentation states the default. */
    readonly doc: string,
  ) {}
}

export interface KeySpec<T> {
  readonly type: ValueType<T>;
  readonly default: T | Derived<T>;
  readonly description: string;
  /** The feature the key belongs to; a key without one is active. */
  readonly feature?: Feature;
  /** Printed as "********" by printConfig and in error messages. */
  readonly secret?: boolean;
  /** Command-line flag name without dashes, for the common keys. */
  readonly flag?: string;
  /** Environment variable name, only where the rule in envName() gives the wrong one. */
  readonly env?: string;
}

export type Schema = { readonly [P in KeyPath]: KeySpec<ValueAt<BrokerConfig, P>> };

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const INT32_MAX = 2 ** 31 - 1;

export const SCHEMA: Schema = {
  'server.brokerId': { type: integer(0, INT32_MAX), default: 1, flag: 'broker-id', description: 'This broker\'s id in the cluster (Kafka node id).' },
  'server.host': { type: host(), default: '127.0.0.1', flag: 'host', description: 'Address the Kafka and HTTP listeners bind to.' },
  'server.advertisedHost': {
    type: host(),
    default: new Derived('server.host', (h: string) => h, '`server.host`'),
    description: 'Host name clients are told to connect to (Metadata responses). Must not be a wildcard address.',
  },
  'server.port': { type: port(), default: 9092, flag: 'port', description: 'Kafka protocol listener port.' },
  'server.httpPort': { type: port(), default: 8081, flag: 'http-port', description: 'HTTP port for health checks, metrics and the admin API.' },
  'server.rack': { type: string(), default: '', description: 'Rack or availability zone of this broker (Kafka\'s `broker.rack`); replicas of a partition go to different racks when brokers set it. Empty: none.' },
  'server.grpcPort': { type: port(), default: 9093, feature: 'grpc', description: 'Broker-to-broker port (Raft, replication, request forwarding).' },
  'server.maxConnections': { type: integer(1), default: 10000, description: 'Most client connections open at once; further connections are refused.' },
  'server.shutdownTimeout': { type: duration(), default: 10_000, description: 'Time allowed for in-flight requests to finish on SIGTERM before the broker exits anyway.' },

  'storage.dataDir': { type: path(), default: './data', flag: 'data-dir', description: 'Directory holding partition logs.' },
  'storage.raftDir': {
    type: path(),
    default: new Derived('storage.dataDir', (d: string) => join(d, 'raft'), '`<storage.dataDir>/raft`'),
    description: 'Directory holding Raft state (terms, votes, metadata log).',
  },
  'storage.ioMode': { type: oneOf(['direct', 'buffered']), default: 'buffered', flag: 'io-mode', description: 'Segment writes with O_DIRECT (`direct`) or through the page cache (`buffered`).' },
  'storage.syncInterval': { type: duration(), default: 1000, flag: 'sync-interval', description: 'How often appended data is fdatasync\'d; 0 syncs before every acknowledgement.' },
  'storage.segmentBytes': { type: size(14, INT32_MAX), default: GiB, description: 'A segment is rolled when it would grow past this size (index positions are 32-bit).' },
  'storage.segmentMs': { type: duration(1), default: 7 * 86_400_000, description: 'A segment is rolled once its first batch is this old.' },
  'storage.preallocateBytes': { type: size(0, INT32_MAX), default: 32 * MiB, description: 'Largest step of disk space reserved (fallocate) ahead of the appends of a partition\'s active segment; 0 reserves none. A new segment reserves 1 MiB (or this, if smaller) and each further step doubles up to this, so an idle partition holds 1 MiB.' },
  'storage.inlineWriteBytes': { type: size(0, INT32_MAX), default: MiB, description: 'Segment writes of at most this many bytes to buffered files (storage.ioMode buffered) are made on the event loop\'s thread, a copy into the page cache, instead of a round trip through the I/O thread pool, whose two wake-ups cost far more on a busy machine (replicated produce answers sooner, docs/storage.md). 0 sends every write through the pool, so the event loop never waits for a write (should the kernel throttle writers of dirty pages).' },
  'storage.indexIntervalBytes': { type: size(0, INT32_MAX), default: 4096, description: 'Bytes of log between two offset index entries.' },
  'storage.retentionDays': { type: number(0, undefined, { unlimited: true }), default: 7, description: 'Days a closed segment is kept; -1 keeps it forever.' },
  'storage.retentionBytes': { type: size(0, undefined, { unlimited: true }), default: -1, description: 'Bytes kept per partition before old segments are deleted; -1 for no size limit.' },
  'storage.compactionInterval': { type: duration(1), default: 3_600_000, feature: 'compaction', description: 'How often compacted topics are cleaned.' },

  'kafka.autoCreateTopics': { type: boolean(), default: true, description: 'Create a topic when a client produces to or asks for metadata of an unknown one.' },
  'kafka.defaultPartitions': { type: integer(1, INT32_MAX), default: 1, description: 'Partitions of an automatically created topic.' },
  'kafka.defaultReplicationFactor': {
    type: integer(1, 32767),
    default: new Derived('cluster.nodes', (nodes: readonly unknown[]) => Math.min(3, Math.max(1, nodes.length)), 'min(3, number of `cluster.nodes`); 1 for a single broker'),
    description: 'Replicas of a topic created without a replication factor (automatically, or with -1).',
  },
  'kafka.maxFrameBytes': { type: size(KiB, INT32_MAX), default: 100 * MiB, description: 'Largest request frame accepted; a larger one closes the connection.' },
  'kafka.messageMaxBytes': { type: size(1, INT32_MAX), default: 1048588, description: 'Largest record batch accepted in a produce request (Kafka\'s message.max.bytes).' },
  'kafka.maxInFlightRequestsPerConnection': { type: integer(1, 65536), default: 32, description: 'Requests read from one connection before their responses are sent; beyond it the connection is not read.' },
  'kafka.maxBufferedBytesPerConnection': { type: size(KiB, INT32_MAX), default: 128 * MiB, description: 'Request and response bytes one connection may hold in memory before it is no longer read. At least `kafka.maxFrameBytes`.' },
  'kafka.groupInitialRebalanceDelayMs': { type: integer(0, INT32_MAX), default: 3000, description: 'Milliseconds the coordinator waits for more members before the first rebalance of an empty group.' },
  'kafka.transactionMaxTimeoutMs': { type: integer(1, INT32_MAX), default: 900_000, description: 'Longest transaction timeout a transactional producer may ask for (Kafka\'s transaction.max.timeout.ms); longer asks are refused with INVALID_TRANSACTION_TIMEOUT.' },
  'kafka.transactionTimeoutCheckIntervalMs': { type: integer(10, INT32_MAX), default: 10_000, description: 'How often the transaction coordinators abort transactions past their timeout and forget idle transactional ids (Kafka\'s transaction.abort.timed.out.transaction.cleanup.interval.ms).' },
  'kafka.transactionalIdExpirationMs': { type: integer(1, INT32_MAX), default: 604_800_000, description: 'A transactional id without a transaction for this long is forgotten (Kafka\'s transactional.id.expiration.ms).' },
  'kafka.offsetsRetentionMinutes': { type: integer(1, INT32_MAX), default: 10080, description: 'Minutes committed offsets of an empty group are kept.' },

  'cluster.nodes': { type: nodeList(), default: [], feature: 'cluster', description: 'The voters of the cluster: a list of `{id, host, port, grpcPort}` (`grpcPort` defaults to 9093, so brokers sharing a host need their own). Peers reach each broker at its entry. The same list on every broker; a broker not in it (`server.brokerId` missing from the list) joins the cluster the list names as an added broker, reached at `server.advertisedHost` and `server.grpcPort` (docs/operations.md, "Adding brokers").' },
  'cluster.partitionBalancing': {
    type: boolean(),
    default: true,
    feature: 'cluster',
    description:
      "The controller moves replicas, a few partitions at a time, until every active broker holds as many as any other within one (after a broker is recommissioned or its replicas were moved away). Decommissioning moves replicas either way (docs/operations.md).",
  },

  'cluster.learnerRecoveryRate': {
    type: size(0),
    default: 100 * MiB,
    feature: 'cluster',
    description:
      'Bytes per second a broker sends, over all the partitions it leads, to replicas being added (partition moves, balancing, decommissioning), so that copying them leaves the disks and network to clients (Redpanda\'s `raft_learner_recovery_rate`). In-sync replicas and refills of a replaced disk are not held back. 0: no limit.',
  },
  'cluster.deadBrokerTimeout': {
    type: duration(),
    default: 0,
    feature: 'cluster',
    description:
      'How long a broker may stay unreachable before the controller re-creates its replicas on the other brokers, as decommissioning does (Redpanda\'s `partition_autobalancing_node_availability_timeout_sec` in continuous mode). Undone when the broker comes back: it is recommissioned and balancing gives it replicas again. 0 (the default) never does it: a dead broker\'s partitions stay under-replicated until it returns or is decommissioned.',
  },

  'raft.enabled': { type: boolean(), default: false, feature: 'raft', description: 'Replicate through Raft.' },
  'raft.heartbeatTimeout': { type: duration(1), default: 1000, feature: 'raft', description: 'Interval between leader heartbeats.' },
  'raft.electionTimeout': { type: duration(1), default: 3000, feature: 'raft', description: 'Longest time a follower goes without hearing from a leader before it stands for election (each waits a random time between half of it and all of it). Greater than `raft.heartbeatTimeout`.' },
  'raft.snapshotInterval': { type: duration(1), default: 3_600_000, feature: 'raft', description: 'Longest time between snapshots.' },
  'raft.quiesce': { type: boolean(), default: true, feature: 'raft', description: 'Idle partition groups stop ticking and heartbeating until the next write, message or peer failure (docs/replication.md, "Quiescence"). The controller group never quiesces.' },
  'raft.snapshotThreshold': { type: integer(1), default: 100000, feature: 'raft', description: 'Log entries applied since the last snapshot that trigger a new one.' },

  'security.tls.enabled': { type: boolean(), default: false, feature: 'tls', description: 'Serve TLS on the Kafka, broker-to-broker and HTTP ports (docs/security.md). The broker does not start when a file is missing, unreadable, expired, not matching its key, or not signed by `caFile`.' },
  'security.tls.certFile': { type: optionalPath(), default: '', feature: 'tls', description: 'PEM certificate chain. Required with TLS.' },
  'security.tls.keyFile': { type: optionalPath(), default: '', feature: 'tls', description: 'PEM private key. Required with TLS.' },
  'security.tls.keyPassphrase': { type: string(), default: '', feature: 'tls', secret: true, description: 'Passphrase of an encrypted private key.' },
  'security.tls.caFile': { type: optionalPath(), default: '', feature: 'tls', description: 'PEM CA bundle that client certificates are checked against. Required with `clientAuthRequired`.' },
  'security.tls.clientAuthRequired': { type: boolean(), default: false, feature: 'tls', description: 'Refuse Kafka clients without a certificate signed by `caFile`; the HTTP port asks for one but serves health and metrics without.' },
  'security.tls.plainHttpProbes': { type: boolean(), default: true, feature: 'tls', description: 'With TLS, `server.httpPort` also answers the health checks and the metrics scrape in plain HTTP when they need no credentials (the deployment guide probes and scrapes http://); nothing else is served there. false: HTTPS only.' },
  'security.tls.minVersion': { type: oneOf(['TLSv1.2', 'TLSv1.3']), default: 'TLSv1.2', feature: 'tls', description: 'Oldest TLS protocol version accepted.' },
  'security.tls.ciphers': { type: string(), default: '', feature: 'tls', description: 'OpenSSL cipher list for TLS 1.2 connections (for example `ECDHE+AESGCM`); empty keeps the runtime\'s defaults. TLS 1.3 suites are not affected.' },
  'security.authentication.enabled': { type: boolean(), default: false, feature: 'authentication', description: 'Require clients to authenticate.' },
  'security.authentication.method': {
    type: oneOf(['mtls', 'jwt', 'plain', 'scram-sha-256', 'scram-sha-512']),
    default: 'mtls',
    feature: 'authentication',
    description: 'How clients authenticate: `mtls` (the verified client certificate\'s subject CN is the principal; needs TLS with `clientAuthRequired`), `jwt` (SASL OAUTHBEARER with a signed JWT, over TLS; see `security.authentication.jwt`), `scram-sha-256` or `scram-sha-512` (SASL SCRAM against credentials stored in the cluster metadata, managed with `streambus user`), or `plain` (SASL PLAIN against the same credentials, over TLS only). See docs/security.md.',
  },
  'security.authentication.methods': {
    type: setOf(['mtls', 'jwt', 'scram-sha-256', 'scram-sha-512', 'plain']),
    default: [],
    feature: 'authentication',
    description: 'Several methods at once, for example `[mtls, scram-sha-512]`: a client authenticates with any of them (with `mtls` listed, a verified client certificate is enough; the SASL mechanisms of the others are offered). Empty: `method` alone.',
  },
  'security.authentication.failedAttemptDelay': {
    type: duration(0, 60_000),
    default: 1_000,
    feature: 'authentication',
    description: 'How long a failed SASL authentication waits before it is answered and the connection closed (slows password guessing; Kafka\'s connection.failed.authentication.delay.ms).',
  },
  'security.authentication.scram.bootstrapUser': {
    type: string(),
    default: '',
    feature: 'authentication',
    description: 'With SCRAM or PLAIN: a user created with `bootstrapPassword` (for each SCRAM mechanism enabled) when the cluster has no credential for it yet, so the first administrator can log in; later password changes are kept. Make it a super user (`security.authorization.superUsers`).',
  },
  'security.authentication.scram.bootstrapPassword': { type: string(), default: '', feature: 'authentication', secret: true, description: 'The bootstrap user\'s password (best from the environment, STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_PASSWORD). Never logged or printed.' },
  'security.authentication.jwt.keyFile': { type: optionalPath(), default: '', feature: 'authentication', description: 'With method `jwt`: the key(s) tokens are signed with, a PEM public key or a JSON Web Key Set file. Required with `jwt`.' },
  'security.authentication.jwt.jwksUrl': {
    type: string(),
    default: '',
    feature: 'authentication',
    description: 'With method `jwt`, instead of `keyFile`: the identity provider\'s JSON Web Key Set URL (https; http only on this machine). Keys are cached for 10 minutes, and a token signed with a key id not in the cache fetches the set again (at most every 30 s), so key rotation at the provider needs no restart.',
  },
  'security.authentication.jwt.issuer': { type: string(), default: '', feature: 'authentication', description: 'With method `jwt`: the `iss` every token must carry. Required with `jwt`.' },
  'security.authentication.jwt.audience': { type: string(), default: '', feature: 'authentication', description: 'With method `jwt`: the `aud` every token must carry (this cluster). Required with `jwt`.' },
  'security.authentication.jwt.algorithms': { type: string({ nonEmpty: true }), default: 'RS256,ES256', feature: 'authentication', description: 'With method `jwt`: the signature algorithms accepted, comma-separated; `none` is never accepted.' },
  'security.authentication.jwt.principalClaim': { type: string({ nonEmpty: true }), default: 'sub', feature: 'authentication', description: 'With method `jwt`: the claim whose value names the principal `User:<value>`.' },
  'security.authentication.jwt.clockSkew': { type: duration(0), default: 30_000, feature: 'authentication', description: 'With method `jwt`: how far token times (`exp`, `nbf`, `iat`) may be off from this broker\'s clock.' },
  'security.authentication.mtls.principalMappingRules': {
    type: string(),
    default: '',
    feature: 'authentication',
    description: 'Kafka\'s `ssl.principal.mapping.rules`: how a client certificate\'s distinguished name (RFC 2253 order, `CN=alice,OU=apps,O=Example`) becomes the principal `User:<name>`, for example `RULE:^CN=(.*?),OU=apps,.*$/$1/L,DEFAULT`. Empty, `DEFAULT` and no match give the CN; a malformed list stops the broker at start.',
  },
  'security.authorization.enabled': {
    type: boolean(),
    default: false,
    description: 'Check every request against the access control lists (ACLs) kept in the cluster metadata and managed with `streambus acl` or Kafka\'s ACL APIs (docs/security.md). Deny by default: a request no ACL allows is refused with Kafka\'s *_AUTHORIZATION_FAILED error and a log line. Needs `security.authentication.enabled`.',
  },
  'security.authorization.superUsers': {
    type: string(),
    default: '',
    description: 'Principals allowed everything, separated by `;` (Kafka\'s `super.users`), for example `User:admin;User:broker-ops`. Without one, only `allowEveryoneIfNoAclFound` can let anyone create the first ACLs.',
  },
  'security.authorization.allowEveryoneIfNoAclFound': {
    type: boolean(),
    default: false,
    description: 'Allow every principal on a resource that no ACL names (Kafka\'s `allow.everyone.if.no.acl.found`). Off: what is not allowed is refused.',
  },

  'logging.level': { type: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), default: 'info', flag: 'log-level', description: 'Least severe level written.' },
  'logging.format': { type: oneOf(['json', 'pretty']), default: 'json', flag: 'log-format', description: 'One JSON object per line, or readable lines for a terminal.' },
  'logging.output': { type: logOutput(), default: 'stdout', description: '`stdout`, `stderr`, or a file that is rotated by size and age.' },
  'logging.maxSize': { type: size(KiB), default: 100e6, description: 'A log file is rotated when it reaches this size.' },
  'logging.maxBackups': { type: integer(0), default: 10, description: 'Rotated log files kept; 0 keeps all (subject to `maxAge`).' },
  'logging.maxAge': { type: integer(0), default: 30, description: 'Days a rotated log file is kept; 0 keeps them regardless of age.' },

  'metrics.enabled': { type: boolean(), default: true, description: 'Serve Prometheus metrics at `metrics.path` on the HTTP port.' },
  'metrics.port': {
    type: port(),
    default: new Derived('server.httpPort', (p: number) => p, '`server.httpPort`'),
    description: 'Must equal `server.httpPort` or be left out: metrics are served by the HTTP server.',
  },
  'metrics.requireAuthentication': {
    type: boolean(),
    default: false,
    description: 'Serve metrics only to scrapers with a client certificate signed by `security.tls.caFile` (or, with method jwt, a bearer token); 401 otherwise. Needs `security.tls.enabled`.',
  },
  'metrics.path': { type: urlPath(), default: '/metrics', description: 'HTTP path of the Prometheus metrics.' },
  'metrics.interval': { type: duration(1), default: 30_000, description: 'The window streambus_throughput_messages_per_second averages over (whole seconds, 1 s to 1 h); every other metric is read when scraped.' },

  'health.enabled': { type: boolean(), default: true, description: 'Serve the liveness and readiness endpoints.' },
  'health.requireAuthentication': {
    type: boolean(),
    default: false,
    description: 'As `metrics.requireAuthentication`, for the liveness and readiness endpoints (probes must then present a certificate or token).',
  },
  'health.livenessPath': { type: urlPath(), default: '/health/live', description: 'Answers 200 while the process is serving.' },
  'health.readinessPath': { type: urlPath(), default: '/health/ready', description: 'Answers 200 once storage has recovered and the Kafka listener accepts.' },

  'multiTenancy.enabled': {
    type: boolean(),
    default: false,
    feature: 'multiTenancy',
    description:
      'Every client connection belongs to a tenant (found as `jwtClaim`, `certificateField`, `principalMappingRules` and `defaultTenant` say) and sees and touches only the topics and groups named `<tenant>.<name>`; tenants are held to their quotas (docs/multi-tenancy.md). Super users (`security.authorization.superUsers`) belong to none and are not restricted.',
  },
  'multiTenancy.jwtClaim': { type: string(), default: 'tenant', feature: 'multiTenancy', description: 'With JWT (SASL OAUTHBEARER): the token claim naming the tenant. Empty: tokens name no tenant.' },
  'multiTenancy.certificateField': {
    type: oneOf(['O', 'OU', 'CN', 'none']),
    default: 'O',
    feature: 'multiTenancy',
    description: 'With client certificates (mtls): the subject field naming the tenant (the first, when it appears more than once); `none`: certificates name no tenant.',
  },
  'multiTenancy.principalMappingRules': {
    type: string(),
    default: '',
    feature: 'multiTenancy',
    description:
      'Rules in the form of `security.authentication.mtls.principalMappingRules`, matched against the principal\'s name (without `User:`), whose result names the tenant, for SCRAM and PLAIN users and for principals that the token or certificate gave no tenant: `RULE:^([^.]+)\\..*$/$1/` makes `acme.alice` a user of tenant `acme`, `RULE:^alice$/acme/` names one user\'s tenant. No rule matching (or `DEFAULT`): no tenant from the rules. A malformed list stops the broker at start.',
  },
  'multiTenancy.defaultTenant': {
    type: string(),
    default: '',
    feature: 'multiTenancy',
    description: 'The tenant of a connection nothing else gives one (also unauthenticated clients). Empty: such connections are refused, with a log line, at authentication or at their first request.',
  },
  'multiTenancy.defaultQuotas.maxTopics': { type: integer(1), default: 100, feature: 'multiTenancy', description: 'Topics a tenant may own, counted over the cluster; CreateTopics and auto-creation past it are refused with POLICY_VIOLATION. Overridden per tenant with `streambus tenant quota`.' },
  'multiTenancy.defaultQuotas.maxConnections': { type: integer(1), default: 1000, feature: 'multiTenancy', description: 'Connections a tenant may hold open on each broker; one more is refused at authentication. Overridden per tenant with `streambus tenant quota`.' },
  'multiTenancy.defaultQuotas.maxBandwidthMBps': { type: number(0.01), default: 100, feature: 'multiTenancy', description: 'Produce plus fetch bandwidth of a tenant on each broker, in MB/s (10^6 bytes); beyond it responses carry throttle_time_ms and the connection is muted for that long, as Kafka\'s client quotas do. Overridden per tenant with `streambus tenant quota`.' },

  'observability.tracing.enabled': { type: boolean(), default: false, feature: 'tracing', description: 'Export OpenTelemetry traces: one span per Kafka request (produce, fetch, consumer group, admin), sent with OTLP over gRPC to `endpoint` (docs/tracing.md). Off: the OpenTelemetry SDK is not even loaded.' },
  'observability.tracing.endpoint': { type: string(), default: '', feature: 'tracing', description: 'OTLP/gRPC collector address, e.g. `jaeger-collector:4317` (plaintext); `http://host:port` is the same, `https://host:port` uses TLS. Required with tracing. A collector that is down costs spans (counted in `streambus_tracing_spans_dropped_total`), never requests.' },
  'observability.tracing.samplingRate': { type: number(0, 1), default: 0.1, feature: 'tracing', description: 'Fraction of requests traced (by trace id). A produced record whose `traceparent` header carries the producer\'s sampling decision is traced as that decision says.' },
};

/** STREAMBUS_ + the key path in upper snake case: storage.dataDir -> STREAMBUS_STORAGE_DATA_DIR. */
export function envName(key: string): string {
  return 'STREAMBUS_' + key.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2')).join('_').toUpperCase();
}

export interface KeyInfo {
  readonly key: KeyPath;
  readonly spec: KeySpec<unknown>;
  readonly env: string;
  readonly active: boolean;
}

/** Every key in schema order, with its resolved environment name and activity. */
export const KEYS: readonly KeyInfo[] = (Object.keys(SCHEMA) as KeyPath[]).map((key) => {
  const spec = SCHEMA[key] as KeySpec<unknown>;
  return { key, spec, env: spec.env ?? envName(key), active: spec.feature === undefined || FEATURES[spec.feature] };
});

export const KEY_INFO: ReadonlyMap<string, KeyInfo> = new Map(KEYS.map((k) => [k.key, k]));

export interface CliFlag {
  /** Flag name without dashes, e.g. 'http-port'. */
  readonly flag: string;
  readonly key: KeyPath;
  readonly description: string;
  /**
   * Register every flag as a string: loadConfig parses it by the key's type, so "--port abc" gets the
   * same message as a bad file value instead of yargs' NaN.
   */
  readonly type: 'string';
}

/** The flags for the common keys, for the CLI to register. Their values go to loadConfig's overrides. */
export const CLI_FLAGS: readonly CliFlag[] = KEYS.filter((k) => k.spec.flag !== undefined).map((k) => ({
  flag: k.spec.flag!,
  key: k.key,
  description: k.spec.description,
  type: 'string' as const,
}));

/** The schema as a tree of sections, for walking a YAML document. */
export interface Section {
  readonly kind: 'section';
  readonly path: string;
  readonly children: Map<string, Section | Leaf>;
}
export interface Leaf {
  readonly kind: 'leaf';
  readonly key: KeyPath;
}

export const SCHEMA_TREE: Section = (() => {
  const root: Section = { kind: 'section', path: '', children: new Map() };
  for (const { key } of KEYS) {
    const parts = key.split('.');
    let section = root;
    parts.slice(0, -1).forEach((part, i) => {
      let next = section.children.get(part);
      if (next === undefined) {
        next = { kind: 'section', path: parts.slice(0, i + 1).join('.'), children: new Map() };
        section.children.set(part, next);
      }
      if (next.kind !== 'section') throw new Error(`schema: ${key} is below leaf ${next.key}`);
      section = next;
    });
    section.children.set(parts[parts.length - 1]!, { kind: 'leaf', key });
  }
  return root;
})();
