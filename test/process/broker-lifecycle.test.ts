// Goal: a real broker process (bin/streambus on Node) becomes ready, serves liveness, readiness and
// Prometheus metrics, accepts Kafka connections, and exits 0 within 10 s of SIGTERM; a second signal
// exits at once; each series of its metrics appears once. Method: spawn the process on free loopback
// ports with a fresh data folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startBroker } from '../helpers/broker-process.ts';
import { repeatedSeries } from '../helpers/metric-series.ts';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

export async function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

test('node broker: ready, health, metrics, kafka port, SIGTERM exits 0', async () => {
  const broker = await startBroker({ runtime: 'node' });
  try {
    assert.equal((await get(broker.httpPort, '/health/live')).status, 200);
    const ready = await get(broker.httpPort, '/health/ready');
    assert.equal(ready.status, 200);
    assert.match(ready.body, /ready/);
    const metrics = await get(broker.httpPort, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^streambus_broker_up\{[^}]*\} 1$/m);
    assert.match(metrics.body, /^process_cpu_seconds_total/m);
    assert.match(metrics.body, /^process_resident_memory_bytes/m);
    assert.match(metrics.body, /^process_open_fds/m);
    assert.deepEqual(repeatedSeries(metrics.body), [], 'every series once');
    assert.equal((await get(broker.httpPort, '/nope')).status, 404);
    assert.ok(await tcpAccepts(broker.kafkaPort));
  } finally {
    const started = Date.now();
    const code = await broker.stop('SIGTERM');
    assert.equal(code, 0, broker.output());
    assert.ok(Date.now() - started < 10_000, 'graceful stop took longer than 10 s');
  }
});

test('SIGINT also stops gracefully with exit code 0', async () => {
  const broker = await startBroker({ runtime: 'node' });
  assert.equal(await broker.stop('SIGINT'), 0, broker.output());
  assert.match(broker.output(), /broker stopped/);
});

test('a second broker on the same data directory refuses to start; the first keeps serving', async () => {
  const first = await startBroker({ runtime: 'node' });
  try {
    const { spawnSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const { freePort } = await import('../helpers/ports.ts');
    const ports = [String(await freePort()), String(await freePort())];
    const second = spawnSync(process.execPath, ['bin/streambus', 'broker', '--port', ports[0]!, '--http-port', ports[1]!], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, STREAMBUS_STORAGE_DATA_DIR: join(first.dataDir, 'data'), STREAMBUS_STORAGE_RAFT_DIR: join(first.dataDir, 'data', 'raft') },
    });
    assert.equal(second.status, 1, second.stdout + second.stderr);
    assert.match(second.stdout + second.stderr, /in use by another broker/);
    assert.equal((await fetch(`http://127.0.0.1:${first.httpPort}/health/ready`)).status, 200);
  } finally {
    assert.equal(await first.stop(), 0, first.output());
  }
});

test('a stop does not wait for long-polling fetches or parked group joins', async () => {
  const { RawKafka, createTopic } = await import('../helpers/raw-kafka.ts');
  const broker = await startBroker({ runtime: 'node', env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '20000' } });
  const conn = await RawKafka.connect(broker.kafkaPort);
  const joiner = await RawKafka.connect(broker.kafkaPort);
  try {
    await createTopic(conn, 'idle', 1);
    // A fetch that would wait 30 s for data, and a JoinGroup the coordinator holds for 20 s.
    const fetchId = conn.send(1, 11, {
      replicaId: -1, maxWaitMs: 30_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'idle', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const joinId = joiner.send(11, 3, {
      groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000, memberId: '', protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    });
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const answers = Promise.allSettled([conn.response(fetchId, 10_000), joiner.response(joinId, 10_000)]);
    assert.equal(await broker.stop(), 0, broker.output());
    assert.ok(Date.now() - started < 5_000, `stop took ${Date.now() - started} ms`);
    const [fetched, joined] = await answers;
    assert.equal(fetched.status, 'fulfilled', 'the long-polling fetch was answered before the connection closed');
    assert.equal(joined.status, 'fulfilled', 'the parked JoinGroup was answered before the connection closed');
  } finally {
    conn.close();
    joiner.close();
  }
});
