// Goal: the transaction facts of a partition follow Kafka's rules: a transactional batch opens its
// producer's transaction at its first offset, a marker closes it, an abort is listed for reads that
// overlap it, and the last stable offset stops at the earliest undecided transaction, including one
// whose marker is not visible yet. Control batches built by the protocol builder read back as markers.
// Method: the pure tracker fed by hand, against the expected LSO and aborted lists; one random
// sequence checked against a direct recomputation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionTransactions, observedBatchOf, type ObservedBatch } from '../../src/replication/partition-transactions.ts';
import { buildControlBatch, buildRecordBatch, ControlType, readRecords, stampBatch } from '../../src/protocol/kafka/record-batch/index.ts';
import { mulberry32 } from '../helpers/prng.ts';

const data = (producerId: bigint, baseOffset: number, count = 1, transactional = true): ObservedBatch => ({ producerId, baseOffset, lastOffset: baseOffset + count - 1, transactional, commit: null });
const marker = (producerId: bigint, offset: number, commit: boolean): ObservedBatch => ({ producerId, baseOffset: offset, lastOffset: offset, transactional: true, commit });

test('an open transaction holds the LSO at its first offset until its marker is visible', () => {
  const t = new PartitionTransactions();
  t.observe(data(-1n, 0, 2, false));
  t.observe(data(7n, 2, 3));
  t.observe(data(8n, 5, 1, false));
  t.observe(data(7n, 6, 2));
  assert.equal(t.openedAt(7n), 2);
  assert.equal(t.lastStableOffset(8), 2);
  assert.equal(t.lastStableOffset(1), 1, 'never past the high watermark');
  t.observe(marker(7n, 8, true));
  assert.equal(t.openCount, 0);
  assert.equal(t.lastStableOffset(8), 2, 'the marker is not visible yet');
  assert.equal(t.lastStableOffset(9), 9);
  assert.deepEqual(t.abortedIn(0, 9), [], 'a commit lists nothing');
});

test('aborts are listed for the reads they overlap, in marker order', () => {
  const t = new PartitionTransactions();
  t.observe(data(1n, 0, 2));
  t.observe(data(2n, 2, 2));
  t.observe(marker(1n, 4, false));
  t.observe(data(3n, 5, 1, false));
  t.observe(marker(2n, 6, false));
  t.observe(marker(9n, 7, false));
  assert.equal(t.lastStableOffset(8), 8);
  const all = [
    { producerId: 1n, firstOffset: 0, lastOffset: 4 },
    { producerId: 2n, firstOffset: 2, lastOffset: 6 },
    { producerId: 9n, firstOffset: 7, lastOffset: 7 },
  ];
  assert.deepEqual(t.abortedIn(0, 8), all);
  assert.deepEqual(t.abortedIn(5, 8), all.slice(1), 'markers before the read are left out');
  assert.deepEqual(t.abortedIn(0, 2), all.slice(0, 1), 'transactions starting after the read are left out');
  assert.deepEqual(t.abortedIn(8, 8), []);
  t.forgetBelow(5);
  assert.deepEqual(t.abortedIn(0, 8), all.slice(1));
});

test('a committed batch applied again (a replica restored from a checkpoint) counts once', () => {
  const t = new PartitionTransactions();
  t.observe(data(1n, 0, 2));
  t.observe(marker(1n, 2, false));
  t.observeCommitted(data(1n, 0, 2));
  t.observeCommitted(marker(1n, 2, false));
  assert.deepEqual(t.abortedIn(0, 3), [{ producerId: 1n, firstOffset: 0, lastOffset: 2 }]);
  t.observeCommitted(data(1n, 3, 1));
  assert.equal(t.openedAt(1n), 3);
  assert.equal(t.observedEnd, 4);
});

test('batches must come in offset order', () => {
  const t = new PartitionTransactions();
  t.observe(data(1n, 3, 2));
  assert.throws(() => t.observe(data(1n, 4)), /observed after/);
});

test('the LSO matches a direct recomputation over random interleavings', () => {
  const next = mulberry32(4242);
  const random = { nextInt: (n: number) => Math.floor(next() * n) };
  for (let round = 0; round < 50; round++) {
    const t = new PartitionTransactions();
    const log: ObservedBatch[] = [];
    let offset = 0;
    let hw = 0;
    for (let i = 0; i < 60; i++) {
      const producerId = BigInt(random.nextInt(4));
      const roll = random.nextInt(10);
      const batch = roll < 6 ? data(producerId, offset, 1 + random.nextInt(3), roll < 5) : marker(producerId, offset, roll < 8);
      offset = batch.lastOffset + 1;
      t.observe(batch);
      log.push(batch);
      // The high watermark never goes down; it trails the log by a random amount.
      hw += random.nextInt(offset - hw + 1);
      assert.equal(t.lastStableOffset(hw), expectedLso(log, hw), `round ${round} step ${i}`);
    }
  }
});

/** The first offset of the earliest transaction not decided by a marker below `hw`, else hw. */
function expectedLso(log: readonly ObservedBatch[], hw: number): number {
  const open = new Map<bigint, number>();
  let lso = hw;
  for (const b of log) {
    if (!b.transactional) continue;
    if (b.commit === null) {
      if (!open.has(b.producerId)) open.set(b.producerId, b.baseOffset);
    } else {
      const first = open.get(b.producerId) ?? b.baseOffset;
      open.delete(b.producerId);
      if (b.baseOffset >= hw) lso = Math.min(lso, first);
    }
  }
  for (const first of open.values()) lso = Math.min(lso, first);
  return lso;
}

test('control batches read back as commit and abort markers; data batches as data', () => {
  const commit = buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 3 }, { producerId: 5n, producerEpoch: 1, timestamp: 10n });
  stampBatch(commit, 0, 12, 0);
  assert.deepEqual(observedBatchOf(commit), { producerId: 5n, baseOffset: 12, lastOffset: 12, transactional: true, commit: true });
  const abort = buildControlBatch({ type: ControlType.abort, coordinatorEpoch: 3 }, { producerId: 5n, producerEpoch: 1, timestamp: 10n });
  assert.equal(observedBatchOf(abort).commit, false);
  const other = buildControlBatch({ type: 7, coordinatorEpoch: 3 }, { producerId: 5n, producerEpoch: 1, timestamp: 10n });
  assert.deepEqual(observedBatchOf(other), { producerId: 5n, baseOffset: 0, lastOffset: 0, transactional: false, commit: null }, 'unknown control types contribute nothing');
  const txn = buildRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }], { transactional: true, producerId: 5n, producerEpoch: 1, baseSequence: 0, baseOffset: 3n });
  assert.deepEqual(observedBatchOf(txn), { producerId: 5n, baseOffset: 3, lastOffset: 4, transactional: true, commit: null });
  // Kafka's layout: key = version int16 0, type int16; value = version int16 0, coordinator epoch int32.
  const [record] = readRecords(commit);
  assert.deepEqual([...record!.key!], [0, 0, 0, 1]);
  assert.deepEqual([...record!.value!], [0, 0, 0, 0, 0, 3]);
  assert.equal(commit.readInt16BE(21) & 0x30, 0x30, 'control and transactional attribute bits');
});
