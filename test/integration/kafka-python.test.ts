// Goal: kafka-python (Debian's python3-kafka 2.0.2, pure Python), a client family outside the
// JavaScript and librdkafka ones, works against the broker with its version auto-detection (never a
// pinned api_version): the admin client creates, lists, describes and deletes topics; a producer with
// acks='all' sends keyed messages with headers; a consumer reads them back from the beginning, in
// order, byte for byte; two group members share a topic's partitions, consume every message exactly
// once and commit, and a restarted member resumes at the commit.
// Method: one broker process; small Python scripts in test/integration/kafka-python/ run with
// /usr/bin/python3, each taking a JSON argument and printing JSON lines; every script and every wait
// is bounded. Committed offsets are read back with a raw OffsetFetch.
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { PythonScript, runPythonScript, SYSTEM_PYTHON } from '../helpers/python-script.ts';
import { createTopic, fetchOffsets, RawKafka } from '../helpers/raw-kafka.ts';
import { requireTool } from '../helpers/tools.ts';

const SCRIPTS = 'test/integration/kafka-python';
/** Python's own deadline (it exits with a line saying so) and the test's, a little longer. */
const SCRIPT_DEADLINE_S = 60;
const SCRIPT_TIMEOUT_MS = 70_000;
const TEST_TIMEOUT_MS = 150_000;

let broker: BrokerProcess;
let bootstrap: string;

before(async () => {
  // Members started together join the same first generation.
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '2000' } });
  bootstrap = `127.0.0.1:${broker.kafkaPort}`;
});

after(async () => {
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

function haveKafkaPython(t: TestContext): boolean {
  return requireTool(t, SYSTEM_PYTHON, { probeArgs: ['-c', 'import kafka'], probeMustSucceed: true, what: 'kafka-python for /usr/bin/python3', installHint: 'apt-get install python3-kafka' });
}

async function run(script: string, input: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  const result = await runPythonScript(`${SCRIPTS}/${script}`, { bootstrap, deadline_s: SCRIPT_DEADLINE_S, ...input }, SCRIPT_TIMEOUT_MS);
  assert.equal(result.code, 0, `${script} exited with ${result.code}\n${result.output}`);
  return result.lines;
}

function step<T>(lines: Record<string, unknown>[], name: string): T {
  const line = lines.find((l) => l['step'] === name);
  assert.ok(line, `no "${name}" line in ${JSON.stringify(lines)}`);
  return line as T;
}

async function createTopicRaw(name: string, partitions: number): Promise<void> {
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    assert.equal(await createTopic(conn, name, partitions), 0);
  } finally {
    conn.close();
  }
}

/** Produces `count` messages numbered from `first` (key-i, value-i, headers index and origin). */
async function produce(topic: string, first: number, count: number): Promise<[number, number, number][]> {
  const { acks } = step<{ acks: [number, number, number][] }>(await run('produce.py', { topic, first, count }), 'produced');
  assert.equal(acks.length, count);
  return acks;
}

test('admin client: create topics, list, describe, delete', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!haveKafkaPython(t)) return;
  const lines = await run('admin.py', { topics: { 'kp-admin-kept': 3, 'kp-admin-doomed': 1 }, delete: 'kp-admin-doomed' });
  assert.deepEqual(step<{ errors: unknown }>(lines, 'create').errors, { 'kp-admin-kept': 0, 'kp-admin-doomed': 0 });
  const listed = step<{ topics: string[] }>(lines, 'list').topics;
  assert.ok(listed.includes('kp-admin-kept') && listed.includes('kp-admin-doomed'), `listed: ${listed}`);
  assert.deepEqual(step<{ topics: unknown }>(lines, 'describe').topics, {
    'kp-admin-doomed': { error: 0, partitions: [[0, 1, [1], [1]]] },
    'kp-admin-kept': { error: 0, partitions: [0, 1, 2].map((p) => [p, 1, [1], [1]]) },
  });
  assert.deepEqual(step<{ errors: unknown }>(lines, 'delete').errors, { 'kp-admin-doomed': 0 });
  const after = step<{ topics: string[] }>(lines, 'list again').topics;
  assert.ok(after.includes('kp-admin-kept') && !after.includes('kp-admin-doomed'), `listed after the delete: ${after}`);
  step(lines, 'done');
});

test("producer with acks='all' sends keyed messages with headers; a consumer reads them back in order", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!haveKafkaPython(t)) return;
  const topic = 'kp-records';
  const count = 300;
  await createTopicRaw(topic, 3);
  const acks = await produce(topic, 0, count);
  const where = new Map(acks.map(([i, partition, offset]) => [`${partition}/${offset}`, i]));
  assert.equal(where.size, count, 'every message has its own partition and offset');

  const { records, ends } = step<{ records: { partition: number; offset: number; key: string; value: string; headers: [string, string][] }[]; ends: Record<string, number> }>(
    await run('consume.py', { topic, read_s: 30 }),
    'consumed',
  );
  assert.equal(records.length, count, 'every message read back');
  assert.equal(Object.values(ends).reduce((a, b) => a + b, 0), count);
  const lastIndex = new Map<number, number>();
  for (const r of records) {
    const i = where.get(`${r.partition}/${r.offset}`);
    assert.ok(i !== undefined, `${r.partition}/${r.offset} was not produced`);
    assert.deepEqual([r.key, r.value, r.headers], [`key-${i}`, `value-${i}`, [['index', String(i)], ['origin', 'kafka-python']]]);
    assert.ok(i > (lastIndex.get(r.partition) ?? -1), `partition ${r.partition}: message ${i} read out of produce order`);
    lastIndex.set(r.partition, i);
  }
});

interface GroupRecord {
  partition: number;
  offset: number;
  key: string;
}

/** A group member (group_member.py); what it reported so far. */
class Member {
  readonly script: PythonScript;
  constructor(readonly name: string, topic: string, group: string) {
    this.script = new PythonScript(`${SCRIPTS}/group_member.py`, { bootstrap, topic, group, name, deadline_s: SCRIPT_DEADLINE_S }, SCRIPT_TIMEOUT_MS);
  }
  records(): GroupRecord[] {
    return this.script.lines.filter((l) => l['event'] === 'record') as unknown as GroupRecord[];
  }
  /** Its partitions after its last assignment ([] before the first). */
  assigned(): number[] {
    const last = this.script.lines.filter((l) => l['event'] === 'assigned').at(-1);
    return (last?.['partitions'] as number[] | undefined) ?? [];
  }
  async stop(): Promise<void> {
    this.script.tell('stop');
    const code = await this.script.exited;
    assert.equal(code, 0, `${this.name} exited with ${code}\n${this.script.describe()}`);
    assert.ok(this.script.lines.some((l) => l['event'] === 'closed'), `${this.name} committed and closed\n${this.script.describe()}`);
  }
}

test('a group of two members shares the partitions, consumes each message once, and a restarted member resumes at the commit', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (!haveKafkaPython(t)) return;
  const topic = 'kp-group';
  const group = 'kp-group-members';
  const partitions = 4;
  const count = 200;
  await createTopicRaw(topic, partitions);
  const acks = await produce(topic, 0, count);
  const ends = new Map<number, bigint>();
  for (const [, partition, offset] of acks) ends.set(partition, BigInt(Math.max(offset + 1, Number(ends.get(partition) ?? 0n))));

  const members = [new Member('member-a', topic, group), new Member('member-b', topic, group)];
  try {
    const all = (): GroupRecord[] => members.flatMap((m) => m.records());
    const shared = (): boolean => members.every((m) => m.assigned().length > 0) && new Set(all().map((r) => `${r.partition}/${r.offset}`)).size >= count;
    await Promise.race(members.map((m) => m.script.until(shared, 60_000, `${m.name}: both members assigned and all ${count} messages consumed`)));
    await Promise.all(members.map((m) => m.stop()));
  } finally {
    for (const m of members) m.script.kill();
  }

  const [a, b] = members.map((m) => m.assigned()) as [number[], number[]];
  assert.deepEqual([...a, ...b].sort(), Array.from({ length: partitions }, (_, i) => i), `the members split the partitions: ${a} and ${b}`);
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const r of m.records()) {
      const at = `${r.partition}/${r.offset}`;
      assert.ok(!seen.has(at), `${at} consumed twice (${seen.get(at)} and ${m.name})`);
      seen.set(at, m.name);
    }
  }
  assert.deepEqual([...seen.keys()].sort(), acks.map(([, p, o]) => `${p}/${o}`).sort(), 'every message consumed exactly once');

  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const committed = await fetchOffsets(conn, group, topic, [...Array(partitions).keys()]);
    assert.deepEqual(new Map([...committed].sort()), new Map([...ends].sort()), 'the committed offsets are the end of every partition');
  } finally {
    conn.close();
  }

  // Messages produced after the commit are all a restarted member reads: it resumes at the commit.
  const more = 20;
  const later = await produce(topic, count, more);
  const restarted = new Member('member-a-restarted', topic, group);
  try {
    await restarted.script.until(() => restarted.records().length >= more, 60_000, `restarted member: ${more} new messages`);
    await restarted.stop();
  } finally {
    restarted.script.kill();
  }
  assert.deepEqual(restarted.assigned(), [...Array(partitions).keys()]);
  assert.deepEqual(restarted.records().map((r) => `${r.partition}/${r.offset}`).sort(), later.map(([, p, o]) => `${p}/${o}`).sort());
});
