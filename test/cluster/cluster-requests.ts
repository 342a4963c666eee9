// Raw Kafka requests the cluster tests send to one chosen broker (not through a client's routing), so
// each test sees exactly what that broker answers.
import { RawKafka } from '../helpers/raw-kafka.ts';
import type { BrokerCluster } from '../helpers/broker-cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Runs `fn` on a fresh connection to 127.0.0.1:`port`, closed afterwards. */
export async function withConn<T>(port: number, fn: (conn: RawKafka) => Promise<T>): Promise<T> {
  const conn = await RawKafka.connect(port);
  try {
    return await fn(conn);
  } finally {
    conn.socket.destroy();
  }
}

/** Metadata v12 from one broker: `topics` null for all, [] for none. */
export function metadataFrom(port: number, topics: string[] | null = null) {
  return withConn(port, (conn) =>
    conn.request(API_KEYS.Metadata, 12, { topics: topics?.map((name) => ({ name, topicId: ZERO_UUID })) ?? null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }),
  );
}

/** CreateTopics v7 through one broker, with the request's timeout_ms; its error code and message. */
export function createTopicThrough(port: number, name: string, partitions = 1, replicationFactor = 1, timeoutMs = 10_000) {
  return withConn(port, async (conn) => {
    const res = await conn.request(API_KEYS.CreateTopics, 7, { topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs: [] }], timeoutMs, validateOnly: false }, timeoutMs + 10_000);
    return { errorCode: res.topics[0]!.errorCode, message: res.topics[0]!.errorMessage };
  });
}

/**
 * Creates `name` with three replicas per partition through the broker at `port` and waits until every
 * partition is led with all three in sync (30 s: elections on a loaded machine).
 */
export async function createReplicatedTopic(port: number, name: string, partitions: number): Promise<void> {
  // Right after the brokers start, the one asked may not reach every other yet (INVALID_REPLICATION_FACTOR, 38).
  let created = await createTopicThrough(port, name, partitions, 3);
  for (const deadline = Date.now() + 10_000; created.errorCode === 38 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    created = await createTopicThrough(port, name, partitions, 3);
  }
  if (created.errorCode !== 0) throw new Error(`creating ${name}: error ${created.errorCode} ${created.message ?? ''}`);
  await metadataUntil(
    port,
    [name],
    (md) => md.topics[0]!.partitions.length === partitions && md.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.isrNodes.length === 3),
    `every partition of ${name} led with three in-sync replicas`,
    30_000,
  );
}

type MetadataAnswer = Awaited<ReturnType<typeof metadataFrom>>;

/**
 * Asks one broker for metadata until `done` holds (every 100 ms, at most `ms`), as clients retry
 * while partitions open or leaders move; fails naming `what` and the last answer's partition errors.
 */
export async function metadataUntil(port: number, topics: string[] | null, done: (md: MetadataAnswer) => boolean, what: string, ms = 10_000): Promise<MetadataAnswer> {
  const deadline = Date.now() + ms;
  for (;;) {
    const md = await metadataFrom(port, topics);
    if (done(md)) return md;
    if (Date.now() > deadline) {
      // Per partition: index, error, leader, replicas, in-sync replicas (what a wait on placement needs).
      const errors = md.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId, p.replicaNodes, p.isrNodes])]);
      throw new Error(`timed out after ${ms} ms waiting for ${what}: ${JSON.stringify(errors)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A gauge's value from a broker's /metrics (the first series of that name); fails when it is missing. */
export async function metric(httpPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (line === undefined) throw new Error(`${name} missing from the metrics of the broker on HTTP port ${httpPort}`);
  return Number(line.split(' ').pop());
}


/** A broker as `streambus broker list --json` shows it. */
export interface ListedBroker {
  id: number;
  state: string;
  drainReason?: string;
  replicas: number;
  leaders: number;
  moving: number;
}

/** `streambus broker list --json` through the admin API on 127.0.0.1:`httpPort` (run without blocking: run-cli.ts). */
export async function listBrokers(httpPort: number): Promise<ListedBroker[]> {
  const run = await runCli(['broker', 'list', '--json', '--http', `127.0.0.1:${httpPort}`], 20_000);
  if (run.status !== 0) throw new Error(`broker list failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as ListedBroker[];
}

/**
 * Rethrows `err` (a wait for the preferred replica to lead again that timed out) with what each broker
 * said about hand-overs, joining and its peer links: the lines that tell why leadership did not come back.
 */
export function withHandOverLines(cluster: BrokerCluster): (err: Error) => never {
  return withBrokerLines(cluster, /preferred|joining|joined|votes from now on|peer (up|down)|peer broker/);
}

/** A catch handler that adds each broker's last 20 log lines matching `pattern` to the error, then throws it. */
export function withBrokerLines(cluster: BrokerCluster, pattern: RegExp): (err: Error) => never {
  return (err) => {
    const said = cluster.members.map((m) => `broker ${m.id}:\n` + (m.process?.output() ?? '').split('\n').filter((l) => pattern.test(l)).slice(-20).join('\n'));
    throw new Error(`${err.message}\n${said.join('\n')}`);
  };
}
