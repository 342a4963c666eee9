// Goal: a partition over the real storage log tracks transactions: transactional batches hold the
// last stable offset (LSO) at their first offset, commit and abort markers written through
// writeTxnMarker release it, aborts are listed for read_committed reads, read_committed reads and
// waits stop at the LSO, markers of an older producer epoch are refused, and all of it (and the
// producer's sequences across a marker) comes back the same after a restart, from a scan of the log
// or from the checkpoint a clean close writes (used once; ignored when it does not check out).
// Method: storage Log on the portable disk in a temporary folder; batches from the protocol builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Log } from '../../src/storage/log.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { Partition, type ProducerFields } from '../../src/replication/partition.ts';
import { buildRecordBatch, readBatchHeader, splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';

const disk = new PortableDisk('test');
const open = (dir: string) => Log.open(dir, { ioMode: 'buffered', syncIntervalMs: 1000, preallocateBytes: 0 }, disk, realClock);
const partitionOver = (log: Log) => new Partition('t', 0, log, { strictDurability: false, leaderEpoch: 0 });

function txnBatch(producerId: bigint, baseSequence: number, count: number, epoch = 0): [Buffer, ProducerFields] {
  const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`p${producerId}-${baseSequence + i}`) }));
  const batch = buildRecordBatch(records, { transactional: true, producerId, producerEpoch: epoch, baseSequence });
  return [batch, { producerId, producerEpoch: epoch, baseSequence, lastOffsetDelta: count - 1 }];
}

async function append(p: Partition, [batch, fields]: [Buffer, ProducerFields | null]): Promise<number> {
  const result = await p.append(batch, fields, 1);
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') return -1;
  await result.visible;
  return result.baseOffset;
}

async function marker(p: Partition, producerId: bigint, commit: boolean, producerEpoch = 0): Promise<number> {
  const { offset, visible } = await p.writeTxnMarker({ producerId, producerEpoch, commit, coordinatorEpoch: 1, timestampMs: 5 });
  await visible;
  return offset;
}

/** Base offsets of the batches a read returns. */
async function readOffsets(p: Partition, from: number, committedOnly: boolean): Promise<number[]> {
  const read = await p.read(from, 1 << 20, committedOnly);
  return read.buffers.flatMap((chunk) => splitBatches(chunk).map(({ start }) => Number(readBatchHeader(chunk, start).baseOffset)));
}

test('markers decide transactions; the LSO, the aborted list and sequences survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-txn-'));
  const log = await open(dir);
  const p = partitionOver(log);
  assert.equal(await append(p, [buildRecordBatch([{ value: Buffer.from('plain') }]), null]), 0);
  assert.equal(await append(p, txnBatch(10n, 0, 2)), 1);
  assert.equal(await append(p, txnBatch(11n, 0, 1)), 3);
  assert.equal(await append(p, txnBatch(10n, 2, 1)), 4);
  assert.equal(p.highWatermark, 5);
  assert.equal(p.lastStableOffset, 1);
  assert.deepEqual(await readOffsets(p, 0, true), [0], 'read_committed stops at the LSO');
  assert.deepEqual(await readOffsets(p, 0, false), [0, 1, 3, 4], 'read_uncommitted reads to the high watermark');
  assert.deepEqual(await readOffsets(p, 2, true), [], 'between the LSO and the high watermark: nothing yet, no error');

  let woke = false;
  p.onData(1, () => (woke = true), true);
  assert.equal(await marker(p, 10n, true), 5);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(p.lastStableOffset, 3, 'producer 11 is still open');
  assert.ok(woke, 'a read_committed waiter wakes when the LSO passes it');
  assert.equal(await marker(p, 11n, false), 6);
  assert.equal(p.lastStableOffset, 7);
  assert.deepEqual(p.abortedTransactions(0, 7), [{ producerId: 11n, firstOffset: 3, lastOffset: 6 }]);
  assert.deepEqual(p.abortedTransactions(7, 7), []);
  assert.deepEqual(await readOffsets(p, 0, true), [0, 1, 3, 4, 5, 6]);
  assert.equal(await append(p, txnBatch(12n, 0, 1)), 7);
  assert.equal(p.lastStableOffset, 7);
  await assert.rejects(p.writeTxnMarker({ producerId: 12n, producerEpoch: -1, commit: true, coordinatorEpoch: 1, timestampMs: 5 }), { code: 'SB_ERR_INVALID_PRODUCER_EPOCH' });
  await log.close();

  const reopened = await open(dir);
  const q = partitionOver(reopened);
  await q.rebuildProducerState(64 * 1024 * 1024);
  assert.equal(await q.rebuildTransactions(), 0, 'no checkpoint (the log was closed without one): the whole log is scanned');
  assert.equal(q.highWatermark, 8);
  assert.equal(q.lastStableOffset, 7);
  assert.deepEqual(q.abortedTransactions(0, 8), [{ producerId: 11n, firstOffset: 3, lastOffset: 6 }]);
  // Sequences go on across a marker within an epoch: producer 10's next transaction starts at 3.
  assert.equal(await append(q, txnBatch(10n, 3, 1)), 8);
  assert.equal(q.lastStableOffset, 7);
  assert.equal(await marker(q, 12n, true), 9);
  assert.equal(q.lastStableOffset, 8, 'producer 10 opened a new transaction at 8');
  // A bumped epoch (the coordinator aborting a fenced producer's transaction) starts sequences over.
  assert.equal(await marker(q, 10n, false, 1), 10);
  assert.equal(q.lastStableOffset, 11);
  assert.deepEqual(q.abortedTransactions(7, 11), [{ producerId: 10n, firstOffset: 8, lastOffset: 10 }]);
  const stale = await q.append(...txnBatch(10n, 4, 1, 0), 1);
  assert.equal(stale.kind, 'invalid-epoch');
  assert.equal(await append(q, txnBatch(10n, 0, 1, 1)), 11);
  assert.equal(await append(q, [buildRecordBatch([{ value: Buffer.from('plain') }]), null]), 12);
  const before = { lso: q.lastStableOffset, aborted: q.abortedTransactions(0, 13), open: q.transactions.openedAt(10n) };
  assert.deepEqual(before, { lso: 11, aborted: [{ producerId: 11n, firstOffset: 3, lastOffset: 6 }, { producerId: 10n, firstOffset: 8, lastOffset: 10 }], open: 11 });
  // A clean close leaves a checkpoint: the next open scans only what comes after it, once.
  await q.saveTransactions();
  await reopened.close();

  const third = await open(dir);
  const r = partitionOver(third);
  assert.equal(await r.rebuildTransactions(), 13, 'the scan starts where the checkpoint ends (the log end)');
  assert.deepEqual({ lso: r.lastStableOffset, aborted: r.abortedTransactions(0, 13), open: r.transactions.openedAt(10n) }, before);
  await third.close();
  const fourth = await open(dir);
  const s = partitionOver(fourth);
  assert.equal(await s.rebuildTransactions(), 0, 'a checkpoint is used once');
  assert.deepEqual({ lso: s.lastStableOffset, aborted: s.abortedTransactions(0, 13), open: s.transactions.openedAt(10n) }, before);
  await fourth.close();
});

test('a checkpoint that does not check out is ignored: the whole log is scanned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-txn-'));
  const log = await open(dir);
  const p = partitionOver(log);
  assert.equal(await append(p, txnBatch(4n, 0, 2)), 0);
  await p.saveTransactions();
  await log.close();
  const saved = readFileSync(join(dir, 'transactions.checkpoint'));
  saved[saved.length - 1]! ^= 1;
  writeFileSync(join(dir, 'transactions.checkpoint'), saved);
  const reopened = await open(dir);
  const q = partitionOver(reopened);
  assert.equal(await q.rebuildTransactions(), 0);
  assert.equal(q.lastStableOffset, 0);
  assert.equal(existsSync(join(dir, 'transactions.checkpoint')), false, 'removed as the partition opens');
  await reopened.close();
});
