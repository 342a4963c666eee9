// Goal: `streambus capacity` prints the guide's example as the guide computes it (27.2 TB with the
// buffer, 480 Mbit/s with overhead, and says the storage is the whole cluster's), prints exact bytes
// and bits with --json, refuses bad usage with exit 2, and measures rate and size from a running
// broker's /metrics with --from-metrics.
// Method: the real CLI; one broker process for --from-metrics, fed by the CLI's produce meanwhile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { runCli } from './run-cli.ts';

let broker: BrokerProcess;

before(async () => {
  broker = await startBroker();
});

after(async () => {
  await broker?.stop();
});

const GUIDE = ['capacity', '--messages-per-sec', '10000', '--message-size', '1KB', '--retention-days', '7', '--replication-factor', '3'];

test("the guide's example, as text and as JSON", async () => {
  const text = await runCli(GUIDE);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.out, /cluster storage\s+18\.1 TB/);
  assert.match(text.out, /cluster storage with buffer\s+27\.2 TB\s+\(whole cluster\)/);
  assert.match(text.out, /bandwidth with overhead\s+480 Mbit\/s/);
  assert.match(text.out, /brokers\s+3 \(medium cluster\)/);
  const json = await runCli([...GUIDE, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const plan = JSON.parse(json.out) as Record<string, number>;
  assert.deepEqual(
    [plan.dailyBytes, plan.retainedBytes, plan.clusterBytes, plan.clusterBytesWithBuffer, plan.perBrokerBytes, plan.bandwidthBytesPerSec, plan.bandwidthWithOverheadBitsPerSec, plan.brokers],
    [864e9, 6.048e12, 18.144e12, 27.216e12, 9.072e12, 40e6, 480e6, 3],
  );
  const binary = await runCli([...GUIDE, '--binary', '--json']);
  assert.equal((JSON.parse(binary.out) as { input: { messageSizeBytes: number } }).input.messageSizeBytes, 1024, '--binary: KB is 1024 bytes');
});

test('bad usage exits 2 with the reason', async () => {
  const noSize = await runCli(['capacity', '--messages-per-sec', '10']);
  assert.equal(noSize.code, 2);
  assert.match(noSize.stderr, /--message-size/);
  const badSize = await runCli(['capacity', '--messages-per-sec', '10', '--message-size', 'lots']);
  assert.equal(badSize.code, 2);
  const badRf = await runCli(['capacity', '--messages-per-sec', '10', '--message-size', '1KB', '--replication-factor', '0']);
  assert.equal(badRf.code, 2);
  assert.match(badRf.stderr, /replication factor/);
});

test('--from-metrics measures the load a broker carries', { timeout: 60_000 }, async () => {
  const b = ['-b', `127.0.0.1:${broker.kafkaPort}`];
  assert.equal((await runCli(['topic', 'create', 'measured', ...b])).code, 0);
  const planning = runCli(['capacity', '--from-metrics', `127.0.0.1:${broker.httpPort}`, '--sample-seconds', '8', '--json'], { timeoutMs: 40_000 });
  // Produce while the planner samples (it scrapes once at its start and once 8 s later).
  let produced = 0;
  await new Promise((r) => setTimeout(r, 2_000));
  for (let round = 0; round < 8; round++) {
    const lines = Array.from({ length: 100 }, (_, i) => `record ${round}-${i} ${'v'.repeat(40)}`).join('\n') + '\n';
    const run = await runCli(['produce', '-t', 'measured', ...b], { input: lines });
    assert.equal(run.code, 0, run.stderr);
    produced += 100;
  }
  const result = await planning;
  assert.equal(result.code, 0, result.stderr);
  const plan = JSON.parse(result.out) as { measured: { messages: number; messagesPerSec: number; messageSizeBytes: number; sampledSeconds: number }; input: { messagesPerSec: number } };
  assert.ok(plan.measured.messages > 0 && plan.measured.messages <= produced, `measured ${plan.measured.messages} of ${produced}`);
  assert.ok(Math.abs(plan.measured.messagesPerSec - plan.measured.messages / plan.measured.sampledSeconds) < 1e-6);
  assert.equal(plan.input.messagesPerSec, plan.measured.messagesPerSec);
  // Each record is ~55 bytes of value plus its share of the batch header.
  assert.ok(plan.measured.messageSizeBytes > 50 && plan.measured.messageSizeBytes < 200, `size ${plan.measured.messageSizeBytes}`);
});
