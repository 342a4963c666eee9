// Goal: `streambus topic delete-records` moves a topic's log start: the records below the offset can
// no longer be consumed, `end` deletes everything written, every partition is taken when none is
// named, and mistakes are refused (usage: exit 2; a missing topic or an offset past the end: exit 1).
// Method: one broker process; records produced and consumed through the CLI itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { runCli } from './run-cli.ts';

let broker: BrokerProcess;
let b: string[];

before(async () => {
  broker = await startBroker();
  b = ['-b', `127.0.0.1:${broker.kafkaPort}`];
});

after(async () => {
  await broker?.stop();
});

const lines = (n: number): string => Array.from({ length: n }, (_, i) => `line ${i}`).join('\n') + '\n';

test('delete-records moves the log start; consume starts there; end deletes everything written', async () => {
  assert.equal((await runCli(['topic', 'create', 'trimmed', '-p', '2', ...b])).code, 0);
  const produced = await runCli(['produce', '-t', 'trimmed', '--partition', '0', ...b], { input: lines(10) });
  assert.equal(produced.code, 0, produced.stderr);

  const deleted = await runCli(['topic', 'delete-records', 'trimmed', '--before', '4', '-p', '0', '--json', ...b]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(JSON.parse(deleted.out), { name: 'trimmed', partitions: [{ partition: 0, logStartOffset: 4 }] });
  const consumed = await runCli(['consume', '-t', 'trimmed', '--partition', '0', '--exit-at-end', '--format', '%o %v', ...b]);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.deepEqual(consumed.out.trim().split('\n'), [4, 5, 6, 7, 8, 9].map((o) => `${o} line ${o}`));

  const all = await runCli(['topic', 'delete-records', 'trimmed', '--before', 'end', ...b]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.out, /^0\s+10$/m);
  assert.match(all.out, /^1\s+0$/m);
});

test('delete-records refuses a bad offset, an unknown partition, a missing topic and an offset past the end', async () => {
  assert.equal((await runCli(['topic', 'create', 'small', ...b])).code, 0);
  assert.equal((await runCli(['produce', '-t', 'small', ...b], { input: lines(3) })).code, 0);
  const bad = await runCli(['topic', 'delete-records', 'small', '--before', '-3', ...b]);
  assert.equal(bad.code, 2, bad.stderr);
  const partition = await runCli(['topic', 'delete-records', 'small', '--before', '1', '-p', '5', ...b]);
  assert.equal(partition.code, 2, partition.stderr);
  const missing = await runCli(['topic', 'delete-records', 'no-such-topic', '--before', '1', ...b]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /does not exist/);
  const past = await runCli(['topic', 'delete-records', 'small', '--before', '9', ...b]);
  assert.equal(past.code, 1, past.stderr);
  assert.match(past.stderr, /OFFSET_OUT_OF_RANGE/);
});
