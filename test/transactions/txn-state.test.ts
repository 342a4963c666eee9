// Goal: the transaction coordinator's rules as Kafka's (KIP-98, KIP-360): InitProducerId gives a new
// id epoch 0, then bumps the epoch (fencing older producers), past the largest epoch a new id, aborts a
// transaction under way first, refuses bad timeouts and mismatched expectations; AddPartitions starts
// and grows a transaction; EndTxn prepares with the markers to write, answers a retry of a finished
// end, refuses the other ending; fenced and unknown producers are refused; a timed-out transaction is
// aborted with its producer fenced.
// Method: pure calls on records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addPartitions, endTransaction, expire, initProducer, markersWritten, MAX_PRODUCER_EPOCH, mergePartitions, type TxnOutcome } from '../../src/transactions/txn-state.ts';
import type { TxnLogValue } from '../../src/transactions/txn-log-records.ts';

let nextId = 100n;
const newId = () => nextId++;
const MAX = 900_000;

function ok(outcome: TxnOutcome): TxnLogValue {
  assert.equal(outcome.error, null, `expected success, got ${outcome.error}`);
  return (outcome as { next: TxnLogValue }).next;
}

test('InitProducerId: new id at epoch 0, then epoch bumps; a new id once the epoch is exhausted', () => {
  const first = ok(initProducer(undefined, 60_000, MAX, 1, newId));
  assert.equal(first.producerEpoch, 0);
  assert.equal(first.status, 'Empty');
  const second = ok(initProducer(first, 30_000, MAX, 2, newId));
  assert.deepEqual([second.producerId, second.producerEpoch, second.timeoutMs], [first.producerId, 1, 30_000]);
  const exhausted = ok(initProducer({ ...second, producerEpoch: MAX_PRODUCER_EPOCH }, 30_000, MAX, 3, newId));
  assert.notEqual(exhausted.producerId, first.producerId);
  assert.equal(exhausted.producerEpoch, 0);
  assert.equal(initProducer(undefined, 0, MAX, 1, newId).error, 'INVALID_TRANSACTION_TIMEOUT');
  assert.equal(initProducer(undefined, MAX + 1, MAX, 1, newId).error, 'INVALID_TRANSACTION_TIMEOUT');
  assert.equal(initProducer(second, 1000, MAX, 4, newId, { producerId: second.producerId, producerEpoch: 0 }).error, 'PRODUCER_FENCED');
  assert.equal(ok(initProducer(second, 1000, MAX, 4, newId, { producerId: second.producerId, producerEpoch: 1 })).producerEpoch, 2);
});

test('a transaction: added partitions, commit prepares with its markers, markers complete it; retries answered', () => {
  const p0 = ok(initProducer(undefined, 60_000, MAX, 1, newId));
  const producer = { producerId: p0.producerId, producerEpoch: p0.producerEpoch };
  const t1 = ok(addPartitions(p0, producer, [{ topic: 'b', partitions: [1] }], 10));
  assert.deepEqual([t1.status, t1.startMs], ['Ongoing', 10]);
  const t2 = ok(addPartitions(t1, producer, [{ topic: 'a', partitions: [0] }, { topic: 'b', partitions: [0, 1] }], 20));
  assert.deepEqual(t2.partitions, [{ topic: 'a', partitions: [0] }, { topic: 'b', partitions: [0, 1] }]);
  assert.equal(t2.startMs, 10, 'the transaction started with its first partition');
  const end = endTransaction(t2, producer, true, 30);
  const prepared = ok(end);
  assert.equal(prepared.status, 'PrepareCommit');
  assert.deepEqual((end as { markers: unknown }).markers, { commit: true, partitions: t2.partitions });
  assert.equal(endTransaction(prepared, producer, true, 31).error, 'CONCURRENT_TRANSACTIONS', 'markers still being written');
  assert.equal(endTransaction(prepared, producer, false, 31).error, 'INVALID_TXN_STATE');
  assert.equal(addPartitions(prepared, producer, [{ topic: 'c', partitions: [0] }], 31).error, 'CONCURRENT_TRANSACTIONS');
  const done = markersWritten(prepared, 40);
  assert.deepEqual([done.status, done.partitions, done.startMs], ['CompleteCommit', [], -1]);
  assert.equal(ok(endTransaction(done, producer, true, 41)), done, 'a retried commit is answered again');
  assert.equal(endTransaction(done, producer, false, 41).error, 'INVALID_TXN_STATE');
  const next = ok(addPartitions(done, producer, [{ topic: 'a', partitions: [3] }], 50));
  assert.deepEqual([next.status, next.partitions, next.startMs], ['Ongoing', [{ topic: 'a', partitions: [3] }], 50]);
  assert.equal(endTransaction(p0, producer, true, 1).error, 'INVALID_TXN_STATE', 'nothing to end');
});

test('zombies are fenced: a newer InitProducerId aborts the old producer\'s transaction and refuses it', () => {
  const p0 = ok(initProducer(undefined, 60_000, MAX, 1, newId));
  const zombie = { producerId: p0.producerId, producerEpoch: 0 };
  const t = ok(addPartitions(p0, zombie, [{ topic: 'a', partitions: [0] }], 5));
  const takeover = initProducer(t, 60_000, MAX, 6, newId);
  const fencing = ok(takeover);
  assert.deepEqual([fencing.status, fencing.producerEpoch], ['PrepareAbort', 1]);
  assert.deepEqual((takeover as { markers: unknown }).markers, { commit: false, partitions: [{ topic: 'a', partitions: [0] }] });
  assert.equal(initProducer(fencing, 60_000, MAX, 7, newId).error, 'CONCURRENT_TRANSACTIONS', 'the new producer retries until the abort is done');
  const aborted = markersWritten(fencing, 8);
  assert.equal(aborted.status, 'CompleteAbort');
  const fresh = ok(initProducer(aborted, 60_000, MAX, 9, newId));
  assert.equal(fresh.producerEpoch, 2);
  assert.equal(addPartitions(fresh, zombie, [{ topic: 'a', partitions: [0] }], 10).error, 'PRODUCER_FENCED');
  assert.equal(endTransaction(fresh, zombie, true, 10, 'INVALID_PRODUCER_EPOCH').error, 'INVALID_PRODUCER_EPOCH', 'older request versions name it so');
  assert.equal(addPartitions(fresh, { producerId: 1n, producerEpoch: 2 }, [], 10).error, 'INVALID_PRODUCER_ID_MAPPING');
  assert.equal(addPartitions(undefined, { producerId: 1n, producerEpoch: 0 }, [], 10).error, 'INVALID_PRODUCER_ID_MAPPING');
});

test('a transaction past its timeout is aborted by the coordinator, its producer fenced', () => {
  const p0 = ok(initProducer(undefined, 1000, MAX, 0, newId));
  const t = ok(addPartitions(p0, { producerId: p0.producerId, producerEpoch: 0 }, [{ topic: 'a', partitions: [1] }], 100));
  assert.equal(expire(t, 1100, newId), null, 'not yet');
  const expired = expire(t, 1101, newId)!;
  assert.deepEqual([ok(expired).status, ok(expired).producerEpoch], ['PrepareAbort', 1]);
  assert.equal(expire(p0, 10_000, newId), null, 'nothing under way');
});

test('partitions merge in order, each once', () => {
  assert.deepEqual(mergePartitions([{ topic: 'b', partitions: [2, 1] }], [{ topic: 'a', partitions: [1] }, { topic: 'b', partitions: [1, 3] }]), [
    { topic: 'a', partitions: [1] },
    { topic: 'b', partitions: [1, 2, 3] },
  ]);
});
