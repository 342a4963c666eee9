/**
 * Starts a cluster of real broker processes on 127.0.0.1 for tests: every broker gets free Kafka,
 * HTTP and inter-broker ports, the first `listed` of them (all by default) are listed in every broker's
 * cluster.nodes, and the first `started` start together (each waits for a controller quorum before it
 * is ready); the others are started by the test, and those beyond `listed` join as added brokers. Short Raft timeouts keep elections
 * quick. `stop()` stops every broker still running.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { freePort } from './ports.ts';
import { startBroker, type BrokerProcess, type StartOptions } from './broker-process.ts';

export interface ClusterMember {
  readonly id: number;
  readonly kafkaPort: number;
  readonly httpPort: number;
  readonly grpcPort: number;
  readonly dataDir: string;
  process: BrokerProcess | null;
}

export interface BrokerCluster {
  readonly members: ClusterMember[];
  /** `127.0.0.1:port` of every broker, for clients' bootstrap lists. */
  readonly bootstrap: string[];
  member(id: number): ClusterMember;
  /** (Re)starts broker `id` on its ports and data folder and waits until it is ready. */
  start(id: number, options?: StartOptions): Promise<BrokerProcess>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /**
   * The grpcPort broker `from` has in its cluster.nodes for broker `to` (default: `to`'s own), so a
   * test can put a proxy between brokers (test/helpers/link-proxy.ts). Called before any broker starts.
   */
  peerGrpcPort?: (from: number, to: ClusterMember) => number;
  /** How many brokers (ids 1..listed) cluster.nodes names; default all. */
  listed?: number;
  /** How many brokers (ids 1..started) start now; default all. */
  started?: number;
  /** The brokers serve HTTPS (security.tls in `env`): readiness is checked against this CA file. */
  httpsCa?: string;
}

export const CLUSTER_TEST_ENV = {
  STREAMBUS_RAFT_ENABLED: 'true',
  STREAMBUS_RAFT_HEARTBEAT_TIMEOUT: '100ms',
  STREAMBUS_RAFT_ELECTION_TIMEOUT: '600ms',
};

/**
 * Ports are picked free before any broker binds them, so another process (or an outgoing connection's
 * ephemeral port) can take one in between: a start that fails with EADDRINUSE is retried on new ports.
 */
export async function startCluster(size: number, options: ClusterOptions = {}): Promise<BrokerCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(size, options);
    } catch (err) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

async function startClusterOnce(size: number, options: ClusterOptions): Promise<BrokerCluster> {
  const root = mkdtempSync(join(tmpdir(), 'streambus-cluster-'));
  const members: ClusterMember[] = [];
  // A port just released can be handed out again: never give two roles the same one.
  const taken = new Set<number>();
  const distinctPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) return taken.add(port), port;
    }
  };
  for (let id = 1; id <= size; id++) {
    members.push({ id, kafkaPort: await distinctPort(), httpPort: await distinctPort(), grpcPort: await distinctPort(), dataDir: join(root, `broker-${id}`), process: null });
  }
  // Each broker's own entry is where it listens; its peers' entries are where it dials them.
  const listed = members.slice(0, options.listed ?? size);
  const nodesOf = new Map(
    members.map((self) => [
      self.id,
      listed.map((m) => `${m.id}@127.0.0.1:${m.kafkaPort}:${m.id === self.id || options.peerGrpcPort === undefined ? m.grpcPort : options.peerGrpcPort(self.id, m)}`).join(','),
    ]),
  );
  const earlierLives = new Map<number, string[]>();
  const member = (id: number) => {
    const m = members.find((x) => x.id === id);
    if (m === undefined) throw new Error(`no broker ${id}`);
    return m;
  };
  const start = async (id: number, extra: StartOptions = {}) => {
    const m = member(id);
    if (m.process !== null && m.process.proc.exitCode === null && m.process.proc.signalCode === null) throw new Error(`broker ${id} is running`);
    mkdirSync(m.dataDir, { recursive: true });
    if (m.process !== null) earlierLives.set(id, [...(earlierLives.get(id) ?? []), m.process.output()]);
    m.process = await startBroker({
      ...extra,
      dataDir: m.dataDir,
      kafkaPort: m.kafkaPort,
      httpPort: m.httpPort,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      ...(options.httpsCa === undefined ? {} : { httpsCa: options.httpsCa }),
      env: {
        ...CLUSTER_TEST_ENV,
        STREAMBUS_SERVER_BROKER_ID: String(id),
        STREAMBUS_SERVER_GRPC_PORT: String(m.grpcPort),
        STREAMBUS_CLUSTER_NODES: nodesOf.get(id)!,
        ...options.env,
        ...extra.env,
      },
    });
    return m.process;
  };
  const cluster: BrokerCluster = {
    members,
    bootstrap: members.map((m) => `127.0.0.1:${m.kafkaPort}`),
    member,
    start,
    async stop() {
      await Promise.all(members.map((m) => m.process?.stop().catch(() => undefined)));
      keepOutputs(root, members, earlierLives);
      rmSync(root, { recursive: true, force: true });
    },
  };
  // Wait for every start to settle, so a failed start leaves no broker running behind it.
  const started = await Promise.allSettled(members.slice(0, options.started ?? size).map((m) => start(m.id)));
  // Every failed start is reported, each with its broker's output: one broker that could not bind
  // its port makes the others wait for it in vain, and only its own output says why (EADDRINUSE,
  // which startCluster retries on new ports).
  const failures = started.flatMap((r, i) => (r.status === 'rejected' ? [`broker ${members[i]!.id}: ${String((r.reason as Error)?.message ?? r.reason)}`] : []));
  if (failures.length > 0) {
    await cluster.stop();
    throw new Error(`cluster start failed:\n${failures.join('\n')}`);
  }
  return cluster;
}

/**
 * STREAMBUS_TEST_LOG_DIR=<folder>: every broker's output, all its lives in order, is written to
 * <folder>/<cluster folder>/broker-<id>.log when the cluster stops, for reading a failure afterwards.
 */
function keepOutputs(root: string, members: readonly ClusterMember[], earlierLives: ReadonlyMap<number, string[]>): void {
  const dir = process.env.STREAMBUS_TEST_LOG_DIR;
  if (dir === undefined || dir === '') return;
  const into = join(dir, basename(root));
  mkdirSync(into, { recursive: true });
  for (const m of members) {
    const lives = [...(earlierLives.get(m.id) ?? []), ...(m.process === null ? [] : [m.process.output()])];
    writeFileSync(join(into, `broker-${m.id}.log`), lives.join('\n--- restarted ---\n'));
  }
}
