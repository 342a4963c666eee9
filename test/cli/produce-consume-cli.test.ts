// Goal: lines produced through the CLI come back byte for byte through consume: keys split at the
// separator, headers, UTF-8 and '\r' kept, empty values, lines without a key, every codec; consume starts
// at an offset, a negative offset, the beginning or the end, stops at --count, at the end, or after
// --timeout-ms; groups commit what they print, and group list/describe/reset-offsets/delete work on them.
// Failures (unknown topic, offset outside the log) exit 1 and usage mistakes exit 2.
// Method: one broker process; each step spawns `node bin/streambus`; inputs come from files and stdin.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { runCli } from './run-cli.ts';

let broker: BrokerProcess;
let b: string[];
let dir: string;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } });
  b = ['-b', `127.0.0.1:${broker.kafkaPort}`];
  dir = mkdtempSync(join(tmpdir(), 'streambus-cli-'));
});

after(async () => {
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** 3,000 lines: keyed ones with UTF-8, a '\r' before the newline, an empty value, and unkeyed lines. */
function sampleLines(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 500 === 7) lines.push(`no separator here ${i}`);
    else if (i % 700 === 3) lines.push(`key-${i}:`);
    else if (i % 900 === 5) lines.push(`key-${i}:ends with cr\r`);
    else lines.push(`key-${i}:valeur ${i} – ✓ ${'x'.repeat(i % 50)}`);
  }
  return lines;
}

test('a file of keyed lines with headers comes back byte for byte, in order, with keys and headers', async () => {
  const lines = sampleLines();
  const file = join(dir, 'lines.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  const produced = await runCli(['produce', '-t', 'lines', '-f', file, '-K', ':', '-H', 'source=file', '-H', 'flag', '--batch-size', '700', '--json', ...b]);
  assert.equal(produced.code, 0, produced.stderr);
  const summary = JSON.parse(produced.out);
  assert.equal(summary.messages, lines.length);
  assert.deepEqual(summary.partitions, [{ partition: 0, messages: lines.length, firstOffset: 0, lastOffset: lines.length - 1 }]);

  const consumed = await runCli(['consume', '-t', 'lines', '--exit-at-end', '--format', '%k|%v|%h|%o', ...b]);
  assert.equal(consumed.code, 0, consumed.stderr);
  const expected = lines.map((line, i) => {
    const at = line.indexOf(':');
    const [key, value] = at < 0 ? ['', line] : [line.slice(0, at), line.slice(at + 1)];
    return `${key}|${value}|source=file,flag=|${i}\n`;
  });
  assert.deepEqual(consumed.stdout, Buffer.from(expected.join(''), 'utf8'));

  const json = await runCli(['consume', '-t', 'lines', '--offset', '7', '--count', '1', '--json', ...b]);
  assert.equal(json.code, 0, json.stderr);
  const record = JSON.parse(json.out);
  assert.deepEqual([record.offset, record.key, record.value, record.headers], [7, null, 'no separator here 7', [{ key: 'source', value: 'file' }, { key: 'flag', value: null }]]);
});

test('stdin, start positions and stop conditions', async () => {
  const produced = await runCli(['produce', '-t', 'small', '-p', '0', ...b], { input: 'one\ntwo\nthree' });
  assert.equal(produced.code, 0, produced.stderr);
  assert.match(produced.out, /^produced 3 messages \(11 B\) to small in /);
  const [fromOffset, fromBack, counted, fromEnd, fromEndCounted, beyond, unknown] = await Promise.all([
    runCli(['consume', '-t', 'small', '--offset', '1', '-e', ...b]),
    runCli(['consume', '-t', 'small', '--offset', '-1', '-e', '--format', '%o:%v', ...b]),
    runCli(['consume', '-t', 'small', '--count', '2', ...b]),
    runCli(['consume', '-t', 'small', '--from-end', '--timeout-ms', '1000', ...b]),
    runCli(['consume', '-t', 'small', '--from-end', '--count', '1', '--timeout-ms', '1000', ...b]),
    runCli(['consume', '-t', 'small', '--offset', '99', ...b]),
    runCli(['consume', '-t', 'no-such-topic', '-e', ...b]),
  ]);
  assert.deepEqual([fromOffset.code, fromOffset.out], [0, 'two\nthree\n']);
  assert.deepEqual([fromBack.code, fromBack.out], [0, '2:three\n']);
  assert.deepEqual([counted.code, counted.out], [0, 'one\ntwo\n']);
  assert.deepEqual([fromEnd.code, fromEnd.out], [0, '']);
  assert.equal(fromEndCounted.code, 1);
  assert.match(fromEndCounted.stderr, /only 0 of 1 messages arrived before 1000 ms passed without one/);
  assert.equal(beyond.code, 1);
  assert.match(beyond.stderr, /offset 99 is outside partition small-0, which holds offsets 0 to 3/);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'streambus: topic no-such-topic does not exist\n');
});

test('every codec, several partitions: keyed lines spread by key and all come back', async () => {
  const created = await runCli(['topic', 'create', 'spread', '--partitions', '3', ...b]);
  assert.equal(created.code, 0, created.stderr);
  const lines = Array.from({ length: 60 }, (_, i) => `k${i}=v${i}`);
  const runs = await Promise.all(
    ['none', 'gzip', 'snappy', 'lz4', 'zstd'].map((codec) => runCli(['produce', '-t', 'spread', '-K', '=', '-z', codec, '--batch-size', '7', '--acks', '1', ...b], { input: lines.join('\n') })),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const consumed = await runCli(['consume', '-t', 'spread', '-e', '--format', '%p %k=%v', ...b]);
  assert.equal(consumed.code, 0, consumed.stderr);
  const rows = consumed.out.trim().split('\n');
  assert.equal(rows.length, lines.length * 5);
  const partitionOf = new Map<string, string>();
  for (const row of rows) {
    const [partition, kv] = row.split(' ');
    const key = kv!.split('=')[0]!;
    assert.equal(partitionOf.get(key) ?? partition, partition, `key ${key} on one partition only`);
    partitionOf.set(key, partition!);
  }
  assert.equal(new Set(partitionOf.values()).size, 3, 'keys spread over all partitions');
  assert.deepEqual([...new Set(rows.map((r) => r.split(' ')[1]))].sort(), [...lines].sort());
});

test('groups: consume commits, then list, describe with lag, reset-offsets (dry run and execute), delete', async () => {
  const produced = await runCli(['produce', '-t', 'grp', '-p', '0', ...b], { input: 'a\nb\nc\n' });
  assert.equal(produced.code, 0, produced.stderr);
  const first = await runCli(['consume', '-t', 'grp', '-g', 'cli-grp', '-e', ...b]);
  assert.deepEqual([first.code, first.out], [0, 'a\nb\nc\n'], first.stderr);
  const more = await runCli(['produce', '-t', 'grp', '-p', '0', ...b], { input: 'd\n' });
  assert.equal(more.code, 0, more.stderr);

  const [listed, described, human, dryRun] = await Promise.all([
    runCli(['group', 'list', '--json', ...b]),
    runCli(['group', 'describe', 'cli-grp', '--json', ...b]),
    runCli(['group', 'describe', 'cli-grp', ...b]),
    runCli(['group', 'reset-offsets', 'cli-grp', '--topic', 'grp', '--to-earliest', ...b]),
  ]);
  assert.ok(JSON.parse(listed.out).some((g: { groupId: string; state: string }) => g.groupId === 'cli-grp' && g.state === 'Empty'), listed.out);
  const d = JSON.parse(described.out);
  assert.equal(d.state, 'Empty');
  assert.deepEqual(d.offsets.map((o: { topic: string; partition: number; committedOffset: number; logEndOffset: number; lag: number }) => [o.topic, o.partition, o.committedOffset, o.logEndOffset, o.lag]), [['grp', 0, 3, 4, 1]]);
  assert.match(human.out, /grp\s+0\s+3\s+4\s+1\s+-/);
  assert.equal(dryRun.code, 0, dryRun.stderr);
  assert.match(dryRun.out, /grp\s+0\s+3\s+0/);
  assert.match(dryRun.stderr, /dry run/);

  const stillThere = await runCli(['consume', '-t', 'grp', '-g', 'cli-grp', '-e', ...b]);
  assert.deepEqual([stillThere.code, stillThere.out], [0, 'd\n'], 'the dry run changed nothing');
  const executed = await runCli(['group', 'reset-offsets', 'cli-grp', '--topic', 'grp', '--to-offset', '1', '--execute', '--json', ...b]);
  assert.equal(executed.code, 0, executed.stderr);
  assert.deepEqual(JSON.parse(executed.out).offsets, [{ topic: 'grp', partition: 0, currentOffset: 4, newOffset: 1 }]);
  const replay = await runCli(['consume', '-t', 'grp', '-g', 'cli-grp', '-e', '--format', '%o %v', ...b]);
  assert.deepEqual([replay.code, replay.out], [0, '1 b\n2 c\n3 d\n']);

  const deleted = await runCli(['group', 'delete', 'cli-grp', ...b]);
  assert.deepEqual([deleted.code, deleted.out], [0, 'deleted group cli-grp\n'], deleted.stderr);
  const [gone, deleteAgain] = await Promise.all([runCli(['group', 'describe', 'cli-grp', ...b]), runCli(['group', 'delete', 'cli-grp', ...b])]);
  assert.deepEqual([gone.code, gone.stderr], [1, 'streambus: group cli-grp does not exist\n']);
  assert.deepEqual([deleteAgain.code, deleteAgain.stderr], [1, 'streambus: group cli-grp does not exist\n']);
});

test('usage mistakes exit 2', async () => {
  const results = await Promise.all([
    runCli(['consume', '-t', 'small', '--format', '%q', ...b]),
    runCli(['consume', '-t', 'small', '--offset', '1', '--from-end', ...b]),
    runCli(['consume', '-t', 'small', '--json', '--format', '%v', ...b]),
    runCli(['produce', '-t', 'small', '--acks', '2', ...b]),
    runCli(['produce', '--partition', '0', ...b]),
    runCli(['group', 'reset-offsets', 'g', '--topic', 'small', ...b]),
  ]);
  for (const r of results) assert.equal(r.code, 2, `${r.stderr}`);
  assert.match(results[0]!.stderr, /unknown token %q/);
  assert.match(results[5]!.stderr, /--to-earliest, --to-latest or --to-offset/);
});
