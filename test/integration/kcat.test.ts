// Goal: kcat (librdkafka) works against a real broker: metadata (-L and -L -J), 100,000 keyed messages
// produced and consumed back byte for byte, every compression codec (and the stored batches really
// carry that codec, so librdkafka did not quietly fall back to none), the balanced consumer (-G, one
// member and two sharing the partitions, with commits that a later run resumes from), and the
// idempotent producer (stored batches carry a producer id).
// Method: one broker process on free loopback ports; kcat runs as a child with its input from a
// generated file and a kill timer; stored batches are read back with a raw Fetch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { requireTool } from '../helpers/tools.ts';
import { RawKafka } from '../helpers/raw-kafka.ts';
import { splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';

const KCAT_TIMEOUT_MS = 60_000;
const PARTITIONS = 3;

let broker: BrokerProcess;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'streambus-kcat-'));
  broker = await startBroker({
    env: { STREAMBUS_KAFKA_DEFAULT_PARTITIONS: String(PARTITIONS), STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '1500' },
  });
});

after(async () => {
  const code = await broker?.stop();
  rmSync(work, { recursive: true, force: true });
  assert.equal(code, 0, broker?.output());
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kcat against the broker; stdin from a file (or none); killed after KCAT_TIMEOUT_MS. */
function kcat(args: readonly string[], inputFile?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const stdin = inputFile ? openSync(inputFile, 'r') : 'ignore';
    const child = spawn('kcat', ['-b', `127.0.0.1:${broker.kafkaPort}`, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
    if (typeof stdin === 'number') closeSync(stdin);
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), KCAT_TIMEOUT_MS);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr });
    });
  });
}

/** Lines `key:value` numbered from `first`; values padded with repeated text so codecs have work. */
function keyedLines(prefix: string, count: number, first = 0): string {
  const lines: string[] = [];
  for (let i = first; i < first + count; i++) lines.push(`${prefix}-key-${i}:${prefix}-value-${i}-${'streambus '.repeat(i % 7)}`);
  return lines.join('\n') + '\n';
}

function writeInput(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

async function produce(topic: string, input: string, extra: readonly string[] = []): Promise<void> {
  const r = await kcat(['-P', '-t', topic, '-K:', '-X', 'message.timeout.ms=30000', ...extra], input);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /fail|error/i);
}

/** Stored batches of one partition: [compression codec, producer id] per batch. */
async function storedBatches(topic: string, partition: number): Promise<{ codec: number; producerId: bigint; records: number }[]> {
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const out: { codec: number; producerId: bigint; records: number }[] = [];
    let next = 0n;
    for (let round = 0; round < 1000; round++) {
      const res = await conn.request(1, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: next, partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const p = res.responses[0]!.partitions[0]!;
      assert.equal(p.errorCode, 0);
      if (!p.records || p.records.length === 0) return out;
      for (const { start } of splitBatches(p.records)) {
        out.push({ codec: p.records.readInt16BE(start + 21) & 7, producerId: p.records.readBigInt64BE(start + 43), records: p.records.readInt32BE(start + 57) });
        next = p.records.readBigInt64BE(start) + BigInt(p.records.readInt32BE(start + 23)) + 1n;
      }
      if (next >= p.highWatermark) return out;
    }
    throw new Error('too many fetch rounds');
  } finally {
    conn.close();
  }
}

test('kcat -L and -L -J describe the broker as controller and leader of every partition', async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  await produce('meta-topic', writeInput('meta.txt', keyedLines('meta', 3)));
  const text = await kcat(['-L']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ 1 brokers:$/m);
  assert.match(text.stdout, new RegExp(`^  broker 1 at 127\\.0\\.0\\.1:${broker.kafkaPort} \\(controller\\)$`, 'm'));
  assert.match(text.stdout, new RegExp(`topic "meta-topic" with ${PARTITIONS} partitions:`));

  const json = await kcat(['-L', '-J', '-t', 'meta-topic']);
  assert.equal(json.code, 0, json.stderr);
  const md = JSON.parse(json.stdout) as {
    controllerid: number;
    brokers: { id: number; name: string }[];
    topics: { topic: string; error?: string; partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
  };
  assert.equal(md.controllerid, 1);
  assert.deepEqual(md.brokers, [{ id: 1, name: `127.0.0.1:${broker.kafkaPort}` }]);
  assert.equal(md.topics.length, 1);
  const topic = md.topics[0]!;
  assert.equal(topic.topic, 'meta-topic');
  assert.equal(topic.error, undefined);
  assert.deepEqual(
    topic.partitions.map((p) => p.partition).sort(),
    Array.from({ length: PARTITIONS }, (_, i) => i),
  );
  for (const p of topic.partitions) {
    assert.equal(p.leader, 1);
    assert.deepEqual(p.replicas, [{ id: 1 }]);
    assert.deepEqual(p.isrs, [{ id: 1 }]);
  }
});

test('100,000 keyed messages produced with kcat are consumed back byte for byte', async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const text = keyedLines('bulk', 100_000);
  await produce('bulk', writeInput('bulk.txt', text), ['-p', '0']);
  const r = await kcat(['-C', '-t', 'bulk', '-p', '0', '-e', '-q', '-o', 'beginning', '-f', '%k:%s\n']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, text.length);
  assert.ok(r.stdout === text, 'consumed messages differ from the produced ones');

  // All partitions at once, with the partitioner spreading keys: every message comes back once, in
  // produce order within its partition.
  const spread = keyedLines('spread', 30_000);
  await produce('spread', writeInput('spread.txt', spread));
  const all = await kcat(['-C', '-t', 'spread', '-e', '-q', '-o', 'beginning', '-f', '%p %o %k:%s\n']);
  assert.equal(all.code, 0, all.stderr);
  const byPartition = new Map<number, { offset: number; line: string }[]>();
  for (const row of all.stdout.split('\n').filter(Boolean)) {
    const m = /^(\d+) (\d+) (.*)$/.exec(row)!;
    const list = byPartition.get(Number(m[1])) ?? [];
    list.push({ offset: Number(m[2]), line: m[3]! });
    byPartition.set(Number(m[1]), list);
  }
  assert.equal(byPartition.size, PARTITIONS, 'keys spread over every partition');
  const expectedOrder = spread.split('\n').filter(Boolean);
  const position = new Map(expectedOrder.map((l, i) => [l, i]));
  let total = 0;
  for (const list of byPartition.values()) {
    list.forEach((e, i) => assert.equal(e.offset, i, 'offsets are contiguous from 0'));
    for (let i = 1; i < list.length; i++) assert.ok(position.get(list[i - 1]!.line)! < position.get(list[i]!.line)!, 'produce order kept within a partition');
    total += list.length;
  }
  assert.equal(total, expectedOrder.length);
  assert.deepEqual([...byPartition.values()].flat().map((e) => e.line).sort(), [...expectedOrder].sort());
});

const CODECS: [string, number][] = [['gzip', 1], ['snappy', 2], ['lz4', 3], ['zstd', 4]];

for (const [codec, id] of CODECS) {
  test(`kcat -z ${codec}: 10,000 messages round-trip and are stored with codec ${id}`, async (t) => {
    if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
    const topic = `codec-${codec}`;
    const text = keyedLines(codec, 10_000);
    await produce(topic, writeInput(`${codec}.txt`, text), ['-p', '0', '-z', codec]);
    const r = await kcat(['-C', '-t', topic, '-p', '0', '-e', '-q', '-o', 'beginning', '-f', '%k:%s\n']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout === text, `${codec}: consumed messages differ from the produced ones`);
    // librdkafka sends a batch uncompressed when compression would not shrink it (a first batch of one
    // short message, say), so a few may be plain; but it must not have fallen back to none altogether.
    const batches = await storedBatches(topic, 0);
    const compressed = batches.filter((b) => b.codec === id).reduce((n, b) => n + b.records, 0);
    assert.deepEqual(batches.filter((b) => b.codec !== id && b.codec !== 0), [], `${codec}: no other codec`);
    assert.ok(compressed >= 9_000, `${codec}: ${compressed} of 10,000 messages stored in ${codec} batches (${batches.length} batches)`);
  });
}

test('kcat -X enable.idempotence=true: messages arrive once, in batches carrying a producer id', async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const text = keyedLines('idem', 10_000);
  await produce('idempotent', writeInput('idem.txt', text), ['-p', '0', '-X', 'enable.idempotence=true']);
  const r = await kcat(['-C', '-t', 'idempotent', '-p', '0', '-e', '-q', '-o', 'beginning', '-f', '%k:%s\n']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout === text, 'consumed messages differ from the produced ones');
  const batches = await storedBatches('idempotent', 0);
  assert.ok(batches.length > 0);
  for (const b of batches) assert.ok(b.producerId >= 0n, 'idempotent batches carry the producer id from InitProducerId');
});

/** Parses `%p %o %k:%s` lines into "partition/offset" -> "key:value". */
function parseRows(stdout: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const row of stdout.split('\n').filter(Boolean)) {
    const m = /^(\d+) (\d+) (.*)$/.exec(row);
    assert.ok(m, `unexpected output line ${row}`);
    const where = `${m[1]}/${m[2]}`;
    assert.ok(!rows.has(where), `${where} read twice`);
    rows.set(where, m[3]!);
  }
  return rows;
}

test('kcat -G: a balanced consumer reads everything, commits, and a rerun resumes at the end', async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const text = keyedLines('group', 20_000);
  await produce('grouped', writeInput('grouped.txt', text));
  const expected = text.split('\n').filter(Boolean).sort();

  const first = await kcat(['-G', 'kcat-g1', '-e', '-q', '-X', 'auto.offset.reset=earliest', '-f', '%p %o %k:%s\n', 'grouped']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual([...parseRows(first.stdout).values()].sort(), expected);

  // On close the consumer committed its positions: the same group finds nothing left to read.
  const again = await kcat(['-G', 'kcat-g1', '-e', '-q', '-X', 'auto.offset.reset=earliest', '-f', '%p %o %k:%s\n', 'grouped']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, '');

  // Two members started together share the partitions; between them they read everything.
  const [a, b] = await Promise.all(
    ['kcat-g2', 'kcat-g2'].map((g) => kcat(['-G', g, '-e', '-q', '-X', 'auto.offset.reset=earliest', '-f', '%p %o %k:%s\n', 'grouped'])),
  );
  assert.equal(a!.code, 0, a!.stderr);
  assert.equal(b!.code, 0, b!.stderr);
  const rowsA = parseRows(a!.stdout);
  const rowsB = parseRows(b!.stdout);
  assert.ok(rowsA.size > 0 && rowsB.size > 0, `both members got partitions (${rowsA.size} and ${rowsB.size} messages)`);
  const union = new Map([...rowsA, ...rowsB]);
  assert.deepEqual([...union.values()].sort(), expected);
});
