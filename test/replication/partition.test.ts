// Goal: a partition over the real storage log: idempotent producers are checked across appends, their
// state is rebuilt from the log after a restart (a retried batch is still answered with its original
// offset, a gap is still out of order), the high watermark follows durability in strict mode, and
// long-polling readers wake when data becomes visible.
// Method: storage Log on the portable disk in a temporary folder; batches from the protocol builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/storage/log.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { Partition, type AppendResult } from '../../src/replication/partition.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/index.ts';

const disk = new PortableDisk('test');
const open = (dir: string, syncIntervalMs: number) => Log.open(dir, { ioMode: 'buffered', syncIntervalMs, preallocateBytes: 0 }, disk, realClock);

function idempotent(pid: bigint, epoch: number, seq: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`v${seq + i}`) }));
  return buildRecordBatch(records, { producerId: pid, producerEpoch: epoch, baseSequence: seq });
}
const fields = (b: Buffer) => ({
  producerId: b.readBigInt64BE(43),
  producerEpoch: b.readInt16BE(51),
  baseSequence: b.readInt32BE(53),
  lastOffsetDelta: b.readInt32BE(23),
});

test('producer state survives a restart: duplicates keep their offsets, gaps stay out of order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-partition-'));
  const log = await open(dir, 1000);
  const p = new Partition('t', 0, log, { strictDurability: false, leaderEpoch: 0 });
  const first = idempotent(42n, 0, 0, 3);
  const second = idempotent(42n, 0, 3, 2);
  assert.deepEqual(offsetsOf(await p.append(Buffer.from(first), fields(first), 1)), { kind: 'appended', baseOffset: 0, lastOffset: 2 });
  assert.deepEqual(offsetsOf(await p.append(Buffer.from(second), fields(second), 1)), { kind: 'appended', baseOffset: 3, lastOffset: 4 });
  assert.deepEqual(offsetsOf(await p.append(Buffer.from(second), fields(second), 1)), { kind: 'duplicate', baseOffset: 3 });
  await log.close();

  const reopened = await open(dir, 1000);
  const q = new Partition('t', 0, reopened, { strictDurability: false, leaderEpoch: 0 });
  assert.equal(await q.rebuildProducerState(64 * 1024 * 1024), 2);
  assert.deepEqual(offsetsOf(await q.append(Buffer.from(second), fields(second), 2)), { kind: 'duplicate', baseOffset: 3 });
  const gap = idempotent(42n, 0, 9, 1);
  assert.deepEqual(await q.append(Buffer.from(gap), fields(gap), 2), { kind: 'out-of-order' });
  const next = idempotent(42n, 0, 5, 1);
  assert.deepEqual(offsetsOf(await q.append(Buffer.from(next), fields(next), 2)), { kind: 'appended', baseOffset: 5, lastOffset: 5 });
  assert.equal(q.logEndOffset, 6);
  await reopened.close();
});

test('strict durability: the high watermark moves only once data is synced; waiting readers wake', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-partition-'));
  const log = await open(dir, 0);
  const p = new Partition('t', 0, log, { strictDurability: true, leaderEpoch: 0 });
  let woke = false;
  const cancel = p.onData(0, () => (woke = true));
  const batch = buildRecordBatch([{ value: Buffer.from('x') }]);
  const r = await p.append(batch, null, 1);
  assert.equal(r.kind, 'appended');
  await p.waitDurable(1);
  assert.equal(p.highWatermark, 1);
  await new Promise((res) => setImmediate(res));
  assert.ok(woke, 'reader woke after the data became durable');
  cancel();
  const read = await p.read(0, 1 << 20);
  assert.equal(read.buffers.length, 1);
  await assert.rejects(p.read(5, 100), /outside/);
  await log.close();
});

/** An append result without its promises, for comparing. */
function offsetsOf(result: AppendResult): object {
  if (result.kind !== 'appended' && result.kind !== 'duplicate') return result;
  return Object.fromEntries(Object.entries(result).filter(([, v]) => !(v instanceof Promise)));
}
