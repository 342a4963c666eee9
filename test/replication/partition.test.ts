// Goal: a partition over the real storage log: idempotent producers are checked across appends, their
// state is rebuilt from the log after a restart (a retried batch is still answered with its original
// offset, a gap is still out of order), a retry of a batch whose first write is not visible yet is
// acknowledged only once that write is (and refused when it never will be), the high watermark
// follows durability in strict mode, and long-polling readers wake when data becomes visible.
// Method: storage Log on the portable disk in a temporary folder; batches from the protocol builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/storage/log.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { Partition, type AppendResult, type PartitionWriter, type WrittenBatch } from '../../src/replication/partition.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/index.ts';
import { until } from '../helpers/timeout.ts';

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

/** A replica-like writer whose writes become visible (or fail) when the test says so. */
class HandWriter implements PartitionWriter {
  readonly leaderEpoch = 1;
  readonly writable = true;
  highWatermark = 0;
  private nextOffset = 0;
  readonly writes: { lastOffset: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  write(batch: Buffer): WrittenBatch {
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + batch.readInt32BE(23);
    this.nextOffset = lastOffset + 1;
    const visible = new Promise<void>((resolve, reject) => this.writes.push({ lastOffset, resolve, reject }));
    return { baseOffset, lastOffset, visible, written: visible };
  }

  waitVisible(): Promise<void> {
    return Promise.resolve();
  }

  inSyncReplicaCount(): number {
    return 1;
  }

  readonly deletedBelow = 0;

  deleteRecords(): Promise<void> {
    return Promise.reject(new Error('not used by these tests'));
  }
}

test('a retried batch is acknowledged only once its first write is visible, and refused if that write failed', async () => {
  const p = new Partition('t', 0, { logStartOffset: 0, endOffset: 0 } as never, { strictDurability: false, leaderEpoch: 0 });
  const writer = new HandWriter();
  p.replicateWith(writer);
  const first = idempotent(7n, 0, 0, 2);
  const appended = await p.append(Buffer.from(first), fields(first), 1);
  assert.equal(appended.kind, 'appended');
  // The client timed out and retries while the first write is still pending: the retry waits for it.
  const retry = await p.append(Buffer.from(first), fields(first), 2);
  assert.equal(retry.kind, 'duplicate');
  let acknowledged = false;
  void (retry as { visible: Promise<void> }).visible.then(() => (acknowledged = true));
  await new Promise((res) => setImmediate(res));
  assert.equal(acknowledged, false, 'not acknowledged before the first write is visible');
  writer.highWatermark = 2;
  writer.writes[0]!.resolve();
  await new Promise((res) => setImmediate(res));
  assert.equal(acknowledged, true);
  // Visible already: a later retry is acknowledged at once.
  const late = await p.append(Buffer.from(first), fields(first), 3);
  assert.ok(late.kind === 'duplicate');
  await late.visible;

  // A write that fails (a lost proposal) fails its retries too, so the producer retries elsewhere.
  const second = idempotent(7n, 0, 2, 1);
  const failing = await p.append(Buffer.from(second), fields(second), 4);
  assert.ok(failing.kind === 'appended');
  failing.visible.catch(() => undefined);
  const pendingRetry = await p.append(Buffer.from(second), fields(second), 5);
  assert.ok(pendingRetry.kind === 'duplicate');
  writer.writes[1]!.reject(new Error('not committed'));
  await assert.rejects(pendingRetry.visible, /not committed/);
  const laterRetry = await p.append(Buffer.from(second), fields(second), 6);
  assert.ok(laterRetry.kind === 'duplicate');
  await assert.rejects(laterRetry.visible, (e: Error & { code?: string }) => e.code === 'SB_ERR_NOT_LEADER');
});

/** An append result without its promises, for comparing. */
function offsetsOf(result: AppendResult): object {
  if (result.kind !== 'appended' && result.kind !== 'duplicate') return result;
  return Object.fromEntries(Object.entries(result).filter(([, v]) => !(v instanceof Promise)));
}

test('a read goes past segments that hold only emptied batches (compaction of a replicated log) to the first record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-partition-'));
  const log = await Log.open(dir, { ioMode: 'buffered', syncIntervalMs: 0, preallocateBytes: 0, segmentBytes: 1024, cleanupPolicy: 'compact' }, disk, realClock);
  try {
    const p = new Partition('t', 0, log, { strictDurability: false, leaderEpoch: 0 });
    const keyed = (round: number) => buildRecordBatch([{ key: Buffer.from('k'), value: Buffer.alloc(200, round) }], {});
    for (let round = 0; round < 20; round++) {
      const b = keyed(round);
      await p.append(b, fields(b), 1);
    }
    assert.ok(log.segmentBaseOffsets().length >= 4);
    const { compactLog } = await import('../../src/storage/compaction.ts');
    await log.sync();
    await compactLog(log, Date.now(), { upTo: log.endOffset, keepEmptyBatches: true });
    await until(() => p.highWatermark === log.endOffset, 5_000, 'the high watermark at the end');
    const first = await log.read(0, 1 << 20);
    assert.equal(first.buffers[0]!.readInt32BE(57), 0, 'the first segment now holds only empty batches');
    const read = await p.read(0, 1 << 20);
    const bytes = Buffer.concat(read.buffers);
    const batches: { base: number; last: number; count: number }[] = [];
    for (let at = 0; at < bytes.length; at += bytes.readInt32BE(at + 8) + 12) {
      const base = Number(bytes.readBigInt64BE(at));
      batches.push({ base, last: base + bytes.readInt32BE(at + 23), count: bytes.readInt32BE(at + 57) });
    }
    const counts = batches.map((b) => b.count);
    assert.ok(counts.length > 1 && counts.at(-1)! > 0 && counts.slice(0, -1).every((c) => c === 0), `batch record counts ${counts.join(',')}`);
    assert.equal(read.nextOffset, batches.at(-1)!.last + 1);
    assert.ok(batches.every((b, i) => i === 0 || b.base === batches[i - 1]!.last + 1), 'contiguous batches');
  } finally {
    await log.close();
  }
});
