// Goal: a client that sends requests and never reads the responses cannot make the broker's memory
// grow without bound, and other clients are still served meanwhile. Per-connection limits on
// in-flight requests and buffered bytes (requests and responses) stop reading from such a client.
// Method: one broker with 16 MiB of buffered bytes per connection; a partition holding about 4 MiB;
// a hostile connection that stops reading and writes Fetch requests for the whole partition (each
// answer about 4 MiB; each request padded to 16 KiB with a rack id, so that the kernel's socket
// buffers fill after a few hundred) as long as the broker takes them, for a few seconds. The broker
// must stop reading from it once the unread answers fill the allowance: the number of Fetch requests
// it handled (streambus_requests_total on /metrics) stays near the in-flight limit, however many the
// client wrote. Meanwhile the broker's RSS (process_resident_memory_bytes) is sampled and a second
// client produces and fetches. The hostile client is bounded on its own side (it stops writing when the broker stops
// reading) and gives up early if the broker's RSS passes the bound, so a failure stays cheap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, createTopic, fetchAll, produceBody, textBatch } from '../helpers/raw-kafka.ts';
import { encodeRequestFrame } from '../../src/protocol/kafka/codec.ts';

const MIB = 1024 * 1024;
// The connection's own allowance (16 MiB of bytes held) plus up to 32 in-flight answers of about
// 4 MiB each, with room for the heap and allocator: growth past this means no bound at all.
const RSS_GROWTH_BOUND_MIB = 300;
const HOSTILE_MS = 5_000;
const HOSTILE_REQUESTS_MAX = 5_000;
const HANDLED_BOUND = 64;

let broker: BrokerProcess;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_MAX_BUFFERED_BYTES_PER_CONNECTION: '16MiB', STREAMBUS_KAFKA_MAX_FRAME_BYTES: '8MiB' } });
});

after(async () => {
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

async function metrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
}

async function rssMib(): Promise<number> {
  const m = /^process_resident_memory_bytes(?:\{[^}]*\})? (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(await metrics());
  assert.ok(m, 'process_resident_memory_bytes is exported');
  return Number(m[1]) / MIB;
}

/** Fetch requests the broker has handled so far. */
async function fetchesHandled(): Promise<number> {
  let total = 0;
  for (const line of (await metrics()).split('\n')) {
    if (line.startsWith('streambus_requests_total{') && line.includes('api="Fetch"')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a client that never reads its responses does not grow the broker without bound; others are served', { timeout: 120_000 }, async () => {
  const setup = await RawKafka.connect(broker.kafkaPort);
  assert.equal(await createTopic(setup, 'big', 1), 0);
  const value = 'x'.repeat(1000);
  for (let i = 0; i < 4; i++) {
    const res = await setup.request(0, 7, produceBody('big', 0, textBatch(Array.from({ length: 1000 }, () => value))));
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
  }
  setup.close();
  const baseline = await rssMib();
  const fetchesBefore = await fetchesHandled();

  const hostile = await RawKafka.connect(broker.kafkaPort);
  hostile.socket.pause(); // never read: the broker's writes back up
  const fetchFrame = (id: number) =>
    encodeRequestFrame(1, 11, id, 'hostile', {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 8 * MIB, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'big', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 8 * MIB, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
      forgottenTopicsData: [], rackId: 'r'.repeat(16 * 1024),
    });

  let peak = baseline;
  let sent = 0;
  const started = Date.now();
  const hostileLoop = (async () => {
    while (Date.now() - started < HOSTILE_MS && sent < HOSTILE_REQUESTS_MAX && peak - baseline < RSS_GROWTH_BOUND_MIB) {
      // Bounded on this side too: once the broker stops reading, our own write buffer fills; wait.
      if (hostile.socket.writableLength > MIB) {
        await sleep(20);
        continue;
      }
      for (const b of fetchFrame(++sent)) hostile.socket.write(b);
      if (sent % 16 === 0) await sleep(0);
    }
  })();
  const sampler = (async () => {
    while (Date.now() - started < HOSTILE_MS + 500) {
      peak = Math.max(peak, await rssMib());
      await sleep(100);
    }
  })();

  // A well-behaved client keeps being served while the hostile one is held back.
  const other = await RawKafka.connect(broker.kafkaPort);
  const served = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      throw new Error(`the other client was not served while the hostile one was connected: ${String(err)}`);
    });
  await served(other.request(3, 9, { topics: [{ name: 'side' }], allowAutoTopicCreation: true }, 5_000));
  for (let i = 0; i < 10; i++) {
    const res = await served(other.request(0, 7, produceBody('side', 0, textBatch([`side-${i}`])), 5_000));
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
    await sleep(200);
  }
  await Promise.all([hostileLoop, sampler]);
  peak = Math.max(peak, await rssMib());
  const handled = (await fetchesHandled()) - fetchesBefore;
  const { records } = await fetchAll(other, 'big', 0);
  assert.equal(records.length, 4000, 'the other client reads the whole partition');
  other.close();
  hostile.close();

  console.log(`hostile client: ${sent} Fetch requests written, ${handled} handled by the broker; broker RSS ${baseline.toFixed(0)} MiB -> peak ${peak.toFixed(0)} MiB`);
  assert.ok(peak - baseline < RSS_GROWTH_BOUND_MIB, `broker RSS grew by ${(peak - baseline).toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND_MIB}) after ${sent} unread Fetch requests`);
  // 32 in flight, plus the answers that fit the 16 MiB allowance (about four), plus slack.
  assert.ok(handled <= HANDLED_BOUND, `the broker handled ${handled} Fetch requests whose answers nobody read (bound ${HANDLED_BOUND}): it kept reading from that client`);
  assert.equal((await fetch(`http://127.0.0.1:${broker.httpPort}/health/ready`)).status, 200);
});
