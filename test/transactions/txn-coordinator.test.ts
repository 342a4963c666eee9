// Goal: the transaction coordinator of one `__transaction_state` partition stores every change before
// it answers, ends transactions by writing markers to each of their partitions and only then stores
// them complete, finishes markers a previous coordinator left unwritten, aborts transactions past their
// timeout (fencing their producer), forgets ids idle past the expiration, fences zombies ahead of
// CONCURRENT_TRANSACTIONS, and refuses everything (NOT_COORDINATOR) once closed, a change under way
// included (it writes nothing more). Every change is stored durable except the completions, whose
// loss the stored decision repairs.
// Method: the coordinator over an in-memory log, a hand-driven clock and a marker writer the test
// releases by hand; states read back by replaying the log into a fresh coordinator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransactionCoordinator, type TxnMarkerRequest, type TxnMarkerWriter } from '../../src/transactions/txn-coordinator.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { MemoryOffsetsLog } from '../groups/memory-offsets-log.ts';
import { decodeTxnLogValue } from '../../src/transactions/txn-log-records.ts';

class HeldMarkers implements TxnMarkerWriter {
  readonly written: TxnMarkerRequest[] = [];
  private readonly waiting: (() => void)[] = [];
  hold = false;
  write(marker: TxnMarkerRequest): Promise<void> {
    if (!this.hold) {
      this.written.push(marker);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => (this.written.push(marker), resolve())));
  }
  release(): void {
    this.hold = false;
    for (const w of this.waiting.splice(0)) w();
  }
}

const settle = () => new Promise((r) => setImmediate(r));

function coordinator(log = new MemoryOffsetsLog(), clock = new ManualClock(), markers = new HeldMarkers()) {
  let nextId = 1000n;
  const errors: string[] = [];
  const c = new TransactionCoordinator({
    log,
    clock,
    coordinatorEpoch: 4,
    newProducerId: async () => nextId++,
    markers,
    maxTimeoutMs: 900_000,
    idExpirationMs: 7 * 86_400_000,
    checkIntervalMs: 10_000,
    endWaitMs: 5_000,
    onBackgroundError: (err, context) => errors.push(`${context}: ${String(err)}`),
  });
  return { c, log, clock, markers, errors };
}

const P = [{ topic: 'orders', partitions: [0, 1] }];

/** Loads `c` and opens a transaction of id 'tx' on P; its producer is the first id the fixture hands out, epoch 0. */
async function openTransaction(c: TransactionCoordinator): Promise<{ producerId: bigint; producerEpoch: number }> {
  await c.load();
  await c.initProducerId('tx', 60_000, null);
  const producer = { producerId: 1000n, producerEpoch: 0 };
  await c.addPartitions('tx', producer, P);
  return producer;
}

test('a transaction: init, add, commit writes markers to its partitions and then stores it complete', async () => {
  const { c, log, markers } = coordinator();
  await c.load();
  const init = await c.initProducerId('tx', 60_000, null);
  assert.deepEqual(init, { errorCode: 0, producerId: 1000n, producerEpoch: 0 });
  const producer = { producerId: 1000n, producerEpoch: 0 };
  assert.equal(await c.addPartitions('tx', producer, P), 0);
  assert.equal((c.describe('tx') as { state: string }).state, 'Ongoing');
  markers.hold = true;
  let answered = false;
  const ending = c.endTransaction('tx', producer, true).then((code) => ((answered = true), code));
  await settle();
  assert.equal((c.describe('tx') as { state: string }).state, 'PrepareCommit', 'the decision is stored first');
  // Until the markers are written, the next transaction must wait, and so does the answer.
  assert.equal(await c.addPartitions('tx', producer, P), KafkaErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(answered, false);
  markers.release();
  assert.equal(await ending, 0, 'answered once the markers are written');
  await settle();
  assert.equal((c.describe('tx') as { state: string }).state, 'CompleteCommit');
  assert.deepEqual(markers.written.map((m) => [m.producerId, m.producerEpoch, m.commit, m.coordinatorEpoch, m.partitions]), [[1000n, 0, true, 4, P]]);
  // Every step went to the log first: a new coordinator reads the same state.
  const again = coordinator(log);
  await again.c.load();
  assert.deepEqual(again.c.describe('tx'), c.describe('tx'));
});

test('while an ending is being written, only producer errors come ahead of CONCURRENT_TRANSACTIONS: the other ending is not refused as INVALID_TXN_STATE yet', async () => {
  // Seen in the partition simulation: a coordinator that did not know yet it was deposed, busy writing
  // an abort's markers, answered a retried commit of the next transaction INVALID_TXN_STATE, fatal to
  // the client, instead of letting it retry until it found the coordinator that took over.
  const { c, markers } = coordinator();
  const producer = await openTransaction(c);
  markers.hold = true;
  const ending = c.endTransaction('tx', producer, false);
  await settle();
  assert.equal((c.describe('tx') as { state: string }).state, 'PrepareAbort');
  assert.equal(await c.endTransaction('tx', producer, true), KafkaErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(await c.endTransaction('tx', { producerId: 1000n, producerEpoch: 1 }, true), KafkaErrorCode.INVALID_PRODUCER_EPOCH, 'a producer error still comes first');
  markers.release();
  assert.equal(await ending, 0);
  await settle();
  assert.equal(await c.endTransaction('tx', producer, true), KafkaErrorCode.INVALID_TXN_STATE, 'once complete, the other ending is refused');
});

test('a coordinator taking over finishes the markers its predecessor did not write', async () => {
  const first = coordinator();
  const producer = await openTransaction(first.c);
  first.markers.hold = true;
  const ending = first.c.endTransaction('tx', producer, false);
  await settle();
  first.clock.advance(5_000);
  assert.equal(await ending, 0, 'answered after the wait: the decision is stored, the markers follow');
  first.c.close(); // leadership moved before the markers were written
  const next = coordinator(first.log);
  const summary = await next.c.load();
  assert.equal(summary.resumed, 1);
  await settle();
  assert.deepEqual(next.markers.written.map((m) => [m.commit, m.partitions]), [[false, P]]);
  assert.equal((next.c.describe('tx') as { state: string }).state, 'CompleteAbort');
  assert.equal(await first.c.initProducerId('tx', 60_000, null).then((a) => a.errorCode), KafkaErrorCode.NOT_COORDINATOR);
});

test('a producer of the same id fences the old one: its open transaction is aborted, its requests refused', async () => {
  const { c, markers } = coordinator();
  const old = await openTransaction(c);
  markers.hold = true;
  // The new producer's init aborts the open transaction: retriable until the abort is written.
  assert.equal((await c.initProducerId('tx', 60_000, null)).errorCode, KafkaErrorCode.CONCURRENT_TRANSACTIONS);
  // Meanwhile the zombie is told it is fenced, not to retry.
  assert.equal(await c.endTransaction('tx', old, true), KafkaErrorCode.PRODUCER_FENCED);
  assert.equal(await c.endTransaction('tx', old, true, 'INVALID_PRODUCER_EPOCH'), KafkaErrorCode.INVALID_PRODUCER_EPOCH);
  markers.release();
  await settle();
  assert.deepEqual(markers.written.map((m) => [m.producerEpoch, m.commit]), [[1, false]], 'aborted with the fencing epoch');
  assert.deepEqual(await c.initProducerId('tx', 60_000, null), { errorCode: 0, producerId: 1000n, producerEpoch: 2 });
  assert.equal(await c.addPartitions('tx', old, P), KafkaErrorCode.PRODUCER_FENCED);
});

test('a transaction past its timeout is aborted; an id idle past the expiration is forgotten', async () => {
  const { c, clock, markers, log } = coordinator();
  await c.load();
  await c.initProducerId('slow', 30_000, null);
  await c.initProducerId('idle', 30_000, null);
  await c.addPartitions('slow', { producerId: 1000n, producerEpoch: 0 }, P);
  clock.advance(30_000);
  await settle();
  assert.equal((c.describe('slow') as { state: string }).state, 'Ongoing', 'not before the timeout has passed');
  clock.advance(10_000);
  await settle();
  await settle();
  assert.deepEqual(markers.written.map((m) => [m.transactionalId, m.producerEpoch, m.commit]), [['slow', 1, false]]);
  assert.equal((c.describe('slow') as { state: string }).state, 'CompleteAbort');
  clock.advance(7 * 86_400_000);
  await settle();
  clock.advance(10_000); // the check that runs once the week is over
  await settle();
  await settle();
  assert.equal(c.describe('idle'), KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  assert.equal(c.describe('slow'), KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  assert.ok(log.records.some((r) => r.value === null), 'forgotten with a tombstone');
});

test('requests before the load finishes, and timeouts outside the broker\'s maximum, are refused', async () => {
  const { c } = coordinator();
  assert.equal((await c.initProducerId('tx', 60_000, null)).errorCode, KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(c.findCoordinator(), 0, 'the coordinator is here, loading');
  await c.load();
  assert.equal((await c.initProducerId('tx', 900_001, null)).errorCode, KafkaErrorCode.INVALID_TRANSACTION_TIMEOUT);
  assert.equal(await c.endTransaction('unknown', { producerId: 1n, producerEpoch: 0 }, true), KafkaErrorCode.INVALID_PRODUCER_ID_MAPPING);
});

test('a failed log write answers NOT_COORDINATOR and changes nothing', async () => {
  const { c, log, errors } = coordinator();
  await c.load();
  log.failNext = 1;
  assert.equal((await c.initProducerId('tx', 60_000, null)).errorCode, KafkaErrorCode.NOT_COORDINATOR);
  assert.equal(c.describe('tx'), KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  assert.equal(errors.length, 1);
  assert.equal((await c.initProducerId('tx', 60_000, null)).errorCode, 0);
});

test('a coordinator closed while a change waits for a producer id writes nothing to its partition', async () => {
  // Leadership moved while the controller handed out the id; by the time it comes, this broker may
  // lead the partition again with another coordinator loaded, which must not find a record it never stored.
  const log = new MemoryOffsetsLog();
  let allocate: (id: bigint) => void = () => undefined;
  const c = new TransactionCoordinator({
    log,
    clock: new ManualClock(),
    coordinatorEpoch: 4,
    newProducerId: () => new Promise<bigint>((resolve) => (allocate = resolve)),
    markers: new HeldMarkers(),
    maxTimeoutMs: 900_000,
    idExpirationMs: 7 * 86_400_000,
    checkIntervalMs: 10_000,
    endWaitMs: 5_000,
    onBackgroundError: () => undefined,
  });
  await c.load();
  const init = c.initProducerId('tx', 60_000, null);
  await settle();
  c.close();
  allocate(1000n);
  assert.equal((await init).errorCode, KafkaErrorCode.NOT_COORDINATOR);
  assert.equal(log.appendCalls, 0, 'nothing appended after the close');
});

test('completions are the only changes not stored durable; one lost in a crash is written again from the decision', async () => {
  const { c, log } = coordinator();
  const producer = await openTransaction(c);
  assert.equal(await c.endTransaction('tx', producer, true), 0);
  await c.addPartitions('tx', producer, P);
  assert.equal(await c.endTransaction('tx', producer, false), 0);
  await settle();
  const stored = log.entries.map((e, i) => {
    assert.ok(e.kind === 'batch' && e.records.length === 1);
    return `${decodeTxnLogValue(e.records[0]!.value!).status} ${log.durabilities[i]}`;
  });
  assert.deepEqual(stored, ['Empty durable', 'Ongoing durable', 'PrepareCommit durable', 'CompleteCommit visible', 'Ongoing durable', 'PrepareAbort durable', 'CompleteAbort visible']);

  // A crash lost the last completion (it waited for no sync): the decision before it was durable.
  const survived = new MemoryOffsetsLog();
  survived.entries.push(...log.entries.slice(0, -1));
  const next = coordinator(survived);
  assert.equal((await next.c.load()).resumed, 1);
  await settle();
  assert.deepEqual(next.markers.written.map((m) => [m.commit, m.partitions]), [[false, P]]);
  assert.equal((next.c.describe('tx') as { state: string }).state, 'CompleteAbort');
});
