// Goal: a partition over the real storage log tracks transactions: transactional batches hold the
// last stable offset (LSO) at their first offset, commit and abort markers written through
// writeTxnMarker release it, aborts are listed for read_committed reads, read_committed reads and
// waits stop at the LSO, markers of an older producer epoch are refused, and all of it (and the
// producer's sequences across a marker) comes back the same after a restart, from a scan of the log
// or from the checkpoint a clean close writes (ignored when it does not check out). After a kill
// (no clean close) only the log after the newest periodic checkpoint is scanned, and retention and
// DeleteRecords that delete the first batch of a still-open transaction keep it known.
// Method: storage Log on the portable disk in a temporary folder; batches from the protocol builder;
// a kill is a close without the clean-shutdown work (the files as a killed process leaves them).
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
  // A clean close leaves a checkpoint: the next open scans only what comes after it.
  await q.saveTransactions();
  await reopened.close();

  const third = await open(dir);
  const r = partitionOver(third);
  assert.equal(await r.rebuildTransactions(), 13, 'the scan starts where the checkpoint ends (the log end)');
  assert.deepEqual({ lso: r.lastStableOffset, aborted: r.abortedTransactions(0, 13), open: r.transactions.openedAt(10n) }, before);
  await third.close();
  const fourth = await open(dir);
  const s = partitionOver(fourth);
  assert.equal(await s.rebuildTransactions(), 13, 'the checkpoint stays valid: the log below it does not change');
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
  assert.equal(q.transactionsCheckpointedAt, -1, 'not counted as a checkpoint');
  // The next checkpoint replaces it.
  await q.saveTransactions();
  assert.equal(q.transactionsCheckpointedAt, 2);
  await reopened.close({ clean: false });
  const third = await open(dir);
  const r = partitionOver(third);
  assert.equal(await r.rebuildTransactions(), 2);
  assert.equal(r.lastStableOffset, 0);
  assert.ok(existsSync(join(dir, 'transactions.checkpoint')));
  await third.close();
});

const plain = (i: number): [Buffer, null] => [buildRecordBatch([{ value: Buffer.from(`plain ${i} ${'x'.repeat(300)}`) }]), null];

async function until(condition: () => boolean, what: () => string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), what());
}

test('after a kill only the log past the newest periodic checkpoint is scanned, and retention keeps an open transaction whose first batch it deletes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-txn-'));
  const small = { ioMode: 'buffered' as const, syncIntervalMs: 1000, preallocateBytes: 0, segmentBytes: 4096, retentionBytes: 8192 };
  const openSmall = () => Log.open(dir, small, disk, realClock);
  const over = (log: Log) => new Partition('t', 0, log, { strictDurability: false, leaderEpoch: 0, transactionsCheckpointBytes: 2048 });
  const log = await openSmall();
  const p = over(log);
  assert.equal(await append(p, txnBatch(7n, 0, 1)), 0, 'producer 7 opens a transaction it never ends here');
  assert.equal(await append(p, txnBatch(8n, 0, 1)), 1);
  for (let i = 0; i < 10; i++) await append(p, plain(i));
  assert.equal(await marker(p, 8n, false), 12, 'producer 8 aborts');
  for (let i = 10; i < 60; i++) await append(p, plain(i));
  // Periodic checkpoints are written once their batches are durable (the log syncs every second).
  await until(() => p.transactionsCheckpointedAt > 50, () => `a periodic checkpoint (at ${p.transactionsCheckpointedAt})`);
  const expected = { lso: 0, aborted: [{ producerId: 8n, firstOffset: 1, lastOffset: 12 }], open: 0 };
  const facts = (q: Partition) => ({ lso: q.lastStableOffset, aborted: q.abortedTransactions(0, q.highWatermark), open: q.transactions.openedAt(7n) ?? -1 });
  assert.deepEqual(facts(p), expected);
  await log.sync();
  const checkpointed = p.transactionsCheckpointedAt;
  await log.close({ clean: false });

  const killed = await openSmall();
  const q = over(killed);
  const from = await q.rebuildTransactions();
  assert.equal(from, checkpointed, 'the scan starts at the newest checkpoint, not at 0');
  assert.ok(from > killed.endOffset - 10, `bounded scan: from ${from} to ${killed.endOffset}`);
  assert.deepEqual(facts(q), expected);

  // Retention deletes the segments holding offsets 0 and 1 (the open transaction's first batch and
  // the aborted one's): a checkpoint at or past the new log start comes first.
  const deleted = await q.maintain(() => q.applyRetention(Date.now()));
  assert.ok(deleted > 0 && q.logStartOffset > 12, `retention deleted ${deleted} segments, start ${q.logStartOffset}`);
  assert.ok(q.transactionsCheckpointedAt >= q.logStartOffset);
  assert.deepEqual(facts(q), { ...expected, aborted: [] }, 'the aborted transaction wholly below the start is forgotten');
  await append(q, plain(100));
  await killed.close({ clean: false });

  const again = await openSmall();
  const r = over(again);
  await r.rebuildTransactions();
  assert.deepEqual(facts(r), { ...expected, aborted: [] }, 'the open transaction survives retention and a kill');
  assert.deepEqual(await readOffsets(r, r.logStartOffset, true), [], 'read_committed still waits for it');
  // DeleteRecords past everything written: checkpointed first too.
  const end = r.highWatermark;
  assert.equal(await r.deleteRecords(end), end);
  assert.ok(r.transactionsCheckpointedAt >= end);
  await r.rebuildProducerState(1 << 20);
  const commit = await marker(r, 7n, true);
  assert.equal(r.lastStableOffset, commit + 1, 'the commit decides it');
  await again.close({ clean: false });
  const last = await openSmall();
  const s = over(last);
  await s.rebuildTransactions();
  assert.equal(s.lastStableOffset, commit + 1);
  assert.equal(s.transactions.openCount, 0);
  await last.close();
});

test('a transaction left open longer than the limit is aborted by the leader; one decided in time is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-txn-'));
  const log = await open(dir);
  try {
    const p = partitionOver(log);
    await append(p, txnBatch(20n, 0, 2, 3));
    await append(p, txnBatch(21n, 0, 1));
    assert.equal(p.lastStableOffset, 0);
    // First seen open at t=0; the limit is 1000 ms.
    assert.deepEqual(await p.abortStaleTransactions(0, 1000), []);
    assert.deepEqual(await p.abortStaleTransactions(900, 1000), []);
    await marker(p, 21n, true);
    const aborted = await p.abortStaleTransactions(1500, 1000);
    assert.deepEqual(aborted, [20n], 'producer 20 vanished; producer 21 committed in time');
    await until(() => p.lastStableOffset === p.highWatermark, () => `LSO ${p.lastStableOffset}, high watermark ${p.highWatermark}`);
    assert.deepEqual(p.abortedTransactions(0, p.highWatermark).map((t) => [t.producerId, t.firstOffset]), [[20n, 0]]);
    assert.deepEqual(await readOffsets(p, 0, true), await readOffsets(p, 0, false), 'read_committed reads to the end (and is told what was aborted)');
    assert.deepEqual(await p.abortStaleTransactions(10_000, 1000), [], 'nothing left open');
  } finally {
    await log.close();
  }
});
