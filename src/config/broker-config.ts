/**
 * The broker's effective configuration: what `loadConfig` returns, deep-frozen. Every duration is in
 * milliseconds, every size in bytes, every path absolute (relative paths were resolved against the
 * working directory of the process that loaded the file). `schema.ts` lists each key with its type,
 * default and documentation; the compiler checks that the two agree key for key.
 */
export interface BrokerConfig {
  readonly server: ServerConfig;
  readonly storage: StorageConfig;
  readonly kafka: KafkaConfig;
  readonly cluster: ClusterConfig;
  readonly raft: RaftConfig;
  readonly security: SecurityConfig;
  readonly logging: LoggingConfig;
  readonly metrics: MetricsConfig;
  readonly health: HealthConfig;
  readonly multiTenancy: MultiTenancyConfig;
  readonly observability: ObservabilityConfig;
}

export interface ServerConfig {
  readonly brokerId: number;
  readonly host: string;
  readonly advertisedHost: string;
  readonly port: number;
  readonly httpPort: number;
  /** Empty when unset. */
  readonly rack: string;
  readonly grpcPort: number;
  readonly maxConnections: number;
  readonly shutdownTimeout: number;
}

export type IoMode = 'direct' | 'buffered';

export interface StorageConfig {
  readonly dataDir: string;
  readonly raftDir: string;
  readonly ioMode: IoMode;
  readonly syncInterval: number;
  readonly segmentBytes: number;
  readonly segmentMs: number;
  readonly indexIntervalBytes: number;
  readonly preallocateBytes: number;
  readonly inlineWriteBytes: number;
  readonly retentionDays: number;
  readonly retentionBytes: number;
  readonly compactionInterval: number;
}

export interface KafkaConfig {
  readonly autoCreateTopics: boolean;
  readonly defaultPartitions: number;
  readonly defaultReplicationFactor: number;
  readonly maxFrameBytes: number;
  readonly messageMaxBytes: number;
  readonly maxInFlightRequestsPerConnection: number;
  readonly maxBufferedBytesPerConnection: number;
  readonly groupInitialRebalanceDelayMs: number;
  readonly transactionMaxTimeoutMs: number;
  readonly transactionTimeoutCheckIntervalMs: number;
  readonly transactionalIdExpirationMs: number;
  readonly offsetsRetentionMinutes: number;
}

export interface ClusterNode {
  readonly id: number;
  readonly host: string;
  /** The node's Kafka port (clients). */
  readonly port: number;
  /** The node's inter-broker port; 9093 when the entry names none. */
  readonly grpcPort: number;
}

export interface ClusterConfig {
  readonly nodes: readonly ClusterNode[];
  readonly partitionBalancing: boolean;
  /** Bytes per second sent to replicas being added, over every partition led here; 0: no limit. */
  readonly learnerRecoveryRate: number;
  /** Milliseconds a broker may stay unreachable before its replicas are re-created elsewhere; 0: never. */
  readonly deadBrokerTimeout: number;
}

export interface RaftConfig {
  readonly enabled: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  readonly snapshotInterval: number;
  readonly snapshotThreshold: number;
  readonly quiesce: boolean;
}

export interface TlsConfig {
  readonly enabled: boolean;
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
  readonly caFile: string;
  readonly clientAuthRequired: boolean;
  readonly plainHttpProbes: boolean;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers: string;
}

export type AuthenticationMethod = 'mtls' | 'jwt' | 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface AuthenticationConfig {
  readonly enabled: boolean;
  readonly method: AuthenticationMethod;
  /** Several methods at once; empty means `method` alone. */
  readonly methods: readonly AuthenticationMethod[];
  readonly failedAttemptDelay: number;
  readonly scram: { readonly bootstrapUser: string; readonly bootstrapPassword: string };
  readonly mtls: { readonly principalMappingRules: string };
  readonly jwt: {
    readonly keyFile: string;
    readonly jwksUrl: string;
    readonly issuer: string;
    readonly audience: string;
    readonly algorithms: string;
    readonly principalClaim: string;
    readonly clockSkew: number;
  };
}

export interface AuthorizationConfig {
  readonly enabled: boolean;
  /** `;`-separated principals. */
  readonly superUsers: string;
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** The methods clients may authenticate with: `methods` when given, else `method` alone (none when authentication is off). */
export function enabledAuthenticationMethods(auth: AuthenticationConfig): readonly AuthenticationMethod[] {
  if (!auth.enabled) return [];
  return auth.methods.length > 0 ? auth.methods : [auth.method];
}

export interface SecurityConfig {
  readonly tls: TlsConfig;
  readonly authentication: AuthenticationConfig;
  readonly authorization: AuthorizationConfig;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'json' | 'pretty';

export interface LoggingConfig {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** 'stdout', 'stderr', or an absolute file path. */
  readonly output: string;
  readonly maxSize: number;
  readonly maxBackups: number;
  /** Days. */
  readonly maxAge: number;
}

export interface MetricsConfig {
  readonly enabled: boolean;
  /** Always equal to server.httpPort: metrics are served by the HTTP server. */
  readonly port: number;
  readonly path: string;
  readonly interval: number;
  readonly requireAuthentication: boolean;
}

export interface HealthConfig {
  readonly enabled: boolean;
  readonly livenessPath: string;
  readonly readinessPath: string;
  readonly requireAuthentication: boolean;
}

export interface QuotasConfig {
  readonly maxTopics: number;
  readonly maxConnections: number;
  readonly maxBandwidthMBps: number;
}

export interface MultiTenancyConfig {
  readonly enabled: boolean;
  /** Empty: tokens name no tenant. */
  readonly jwtClaim: string;
  readonly certificateField: 'O' | 'OU' | 'CN' | 'none';
  readonly principalMappingRules: string;
  /** Empty: connections without a tenant are refused. */
  readonly defaultTenant: string;
  readonly defaultQuotas: QuotasConfig;
}

export interface TracingConfig {
  readonly enabled: boolean;
  readonly endpoint: string;
  readonly samplingRate: number;
}

export interface ObservabilityConfig {
  readonly tracing: TracingConfig;
}

/** Every leaf key path: 'server.port', 'cluster.nodes', ... (a list is one leaf). */
export type KeyPath = Leaves<BrokerConfig>;

type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends readonly unknown[]
    ? `${P}${K}`
    : T[K] extends object
      ? Leaves<T[K], `${P}${K}.`>
      : `${P}${K}`;
}[keyof T & string];

/** The type of the value at a key path. */
export type ValueAt<T, P extends string> = P extends `${infer H}.${infer R}`
  ? H extends keyof T
    ? ValueAt<T[H], R>
    : never
  : P extends keyof T
    ? T[P]
    : never;
