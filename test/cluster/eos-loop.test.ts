// Goal: librdkafka's exactly-once consume-transform-produce loop keeps every input exactly once in the
// output across the SIGKILL of the broker coordinating its transactional id on a three-broker cluster:
// another replica of the `__transaction_state` partition takes over the stored transaction state, the
// group's offsets committed inside the transactions survive on the replicated `__consumer_offsets`,
// and read_committed consumers see no aborted record (every fifth batch is aborted on purpose).
// Method: three broker processes; input and output topics of two partitions and three replicas; the
// loop is test/transactions/librdkafka/eos.py (/usr/bin/python3, confluent-kafka over librdkafka);
// the coordinator (FindCoordinator key type 1) is killed once a third of the input is committed and
// restarted; outputs read back by a kafkajs read_committed consumer; every wait bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, withBrokerLines, withConn } from './cluster-requests.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { PythonScript, SYSTEM_PYTHON } from '../helpers/python-script.ts';
import { requireTool } from '../helpers/tools.ts';
import { until, withTimeout } from '../helpers/timeout.ts';

const INPUTS = 300;
const PARTITIONS = 2;
const TXN_ID = 'cluster-eos-tx';

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(3, { env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } });
  for (const name of ['ceos-in', 'ceos-out']) await createReplicatedTopic(cluster.member(1).kafkaPort, name, PARTITIONS);
});

after(async () => {
  await cluster?.stop();
});

const client = (clientId: string) => new kafkajs.Kafka({ clientId, brokers: cluster.bootstrap, logLevel: kafkajs.logLevel.NOTHING, requestTimeout: 5_000, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } });

async function coordinatorFrom(port: number): Promise<number> {
  const answer = await withConn(port, (conn) => conn.request(API_KEYS.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: [TXN_ID] }));
  const c = answer.coordinators[0]!;
  return c.errorCode === 0 ? c.nodeId : -1;
}

test('an exactly-once loop survives the SIGKILL of its transaction coordinator on a cluster', { timeout: 240_000 }, async (t) => {
  if (!requireTool(t, SYSTEM_PYTHON, { probeArgs: ['-c', 'import confluent_kafka'], probeMustSucceed: true, what: 'confluent-kafka for /usr/bin/python3', installHint: 'apt-get install python3-confluent-kafka' })) return;
  const producer = client('ceos-feeder').producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < INPUTS; i += 50) {
    await producer.send({ topic: 'ceos-in', acks: -1, messages: Array.from({ length: 50 }, (_, j) => ({ value: `in-${i + j}`, partition: (i + j) % PARTITIONS })) });
  }
  await producer.disconnect();

  const loop = new PythonScript('test/transactions/librdkafka/eos.py', { bootstrap: cluster.bootstrap.join(','), input: 'ceos-in', output: 'ceos-out', group: 'ceos-loop', transactional_id: TXN_ID, expected: INPUTS, abort_every: 5, deadline_s: 180, debug: 'eos' }, 190_000);
  const brokersSaid = withBrokerLines(cluster, /transaction|marker|coordinator/);
  const total = () => Math.max(0, ...loop.lines.filter((l) => l['event'] === 'committed').map((l) => Number(l['total'])));
  let killed = -1;
  try {
    await loop.until(() => total() >= INPUTS / 3, 90_000, 'a third of the input committed').catch(brokersSaid);
    killed = await coordinatorFrom(cluster.member(1).kafkaPort);
    assert.ok(killed > 0, 'the coordinator is known');
    await cluster.member(killed).process!.kill();
    await loop.until(() => total() >= (2 * INPUTS) / 3, 90_000, 'two thirds committed with the coordinator down').catch(brokersSaid);
    await cluster.start(killed);
    await loop.until(() => loop.lines.some((l) => l['event'] === 'done' || l['event'] === 'fatal' || l['event'] === 'deadline'), 90_000, 'the loop ends').catch(brokersSaid);
    assert.equal(loop.lines.at(-1)!['event'], 'done', loop.describe());
    t.diagnostic(`coordinator ${killed} killed; ${loop.lines.filter((l) => l['event'] === 'abortable').length} abortable error(s)`);
  } finally {
    loop.kill();
  }

  const consumer = client('ceos-reader').consumer({ groupId: 'ceos-reader', maxWaitTimeInMs: 200 });
  const outputs: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'ceos-out', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void outputs.push(`${partition}:${message.headers!['src']!.toString()}:${message.value!.toString()}`) });
    await withTimeout(until(() => outputs.length >= INPUTS, 30_000, 'every output read'), 35_000, 'reading the output');
    await new Promise((r) => setTimeout(r, 1_000)); // a duplicate would arrive in this time
  } finally {
    await consumer.disconnect();
  }
  const expected = Array.from({ length: INPUTS }, (_, i) => `${i % PARTITIONS}:${Math.floor(i / PARTITIONS)}:IN-${i}`);
  assert.deepEqual(outputs.sort(), expected.sort(), 'each input exactly once');
});
