// Goal: on a partition replicated by Raft, every replica computes the same transaction facts from the
// committed log: the same last stable offset and the same aborted transactions, a marker counts only
// once committed, a follower that crashed rebuilds them from its log and the entries it applies
// after, one stopped cleanly restores them from its checkpoint, and a new leader continues them (it
// can decide a transaction its predecessor opened). A follower so far behind that it installs the
// leader's snapshot (retention deleted the batches it lacks, among them the first batch of a
// transaction still open) learns the transactions from the snapshot, also across its next crash.
// Method: three in-process brokers (partition-replica-fixture.ts) with real segment logs; markers
// through Partition.writeTxnMarker on the leader; every wait is a bounded loop of rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/index.ts';
import { append, Cluster, IDS, plainBatch, settle, startCluster, track, type Broker } from './partition-replica-fixture.ts';

function txnBatch(producerId: bigint, sequence: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`p${producerId}-s${sequence + i}`) }));
  return buildRecordBatch(records, { transactional: true, producerId, producerEpoch: 0, baseSequence: sequence, baseTimestamp: 1_700_000_000_000n });
}

async function produce(cluster: Cluster, leader: Broker, batch: Buffer): Promise<number> {
  const result = await append(leader, batch, true);
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') throw new Error('unreachable');
  const visible = track(result.visible);
  await cluster.pump(() => visible.state !== 'pending', 'a batch to become visible');
  assert.equal(visible.state, 'resolved', String(visible.error));
  return result.baseOffset;
}

async function marker(cluster: Cluster, leader: Broker, producerId: bigint, commit: boolean): Promise<number> {
  const { offset, visible } = await leader.partition.writeTxnMarker({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestampMs: 1 });
  const done = track(visible);
  await cluster.pump(() => done.state !== 'pending', 'a marker to commit');
  assert.equal(done.state, 'resolved', String(done.error));
  return offset;
}

/** Every running replica's (high watermark, LSO, aborted list): they must all be `expected`. */
function assertSameTransactions(cluster: Cluster, expected: { hw: number; lso: number; aborted: object[] }): void {
  for (const b of cluster.brokers.values()) {
    if (!b.up) continue;
    const p = b.partition;
    assert.deepEqual({ hw: p.highWatermark, lso: p.lastStableOffset, aborted: p.abortedTransactions(0, p.highWatermark) }, expected, `broker ${b.id}`);
  }
}

test('every replica computes the same LSO and aborted list, across a follower crash and a leader change', async () => {
  const { cluster, leader } = await startCluster();
  try {
    assert.equal(await produce(cluster, leader, txnBatch(5n, 0, 2)), 0);
    assert.equal(await produce(cluster, leader, txnBatch(6n, 0, 1)), 2);
    await settle(cluster);
    assertSameTransactions(cluster, { hw: 3, lso: 0, aborted: [] });

    // A marker counts once committed: proposed, not yet replicated, it decides nothing.
    const pending = await leader.partition.writeTxnMarker({ producerId: 5n, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestampMs: 1 });
    assert.equal(pending.offset, 3);
    assert.equal(leader.partition.lastStableOffset, 0);
    const committed = track(pending.visible);
    await cluster.pump(() => committed.state !== 'pending', 'the commit marker');
    assert.equal(committed.state, 'resolved', String(committed.error));
    await settle(cluster);
    assertSameTransactions(cluster, { hw: 4, lso: 2, aborted: [] });

    const follower = cluster.broker(IDS.find((id) => id !== leader.id)!);
    await follower.stop(false);
    assert.equal(await marker(cluster, leader, 6n, false), 4);
    assert.equal(await produce(cluster, leader, txnBatch(5n, 2, 1)), 5);
    await follower.start();
    await settle(cluster);
    const decided = { hw: 6, lso: 5, aborted: [{ producerId: 6n, firstOffset: 2, lastOffset: 4 }] };
    assertSameTransactions(cluster, decided);

    // The leader goes away; its successor decides the transaction it opened.
    await leader.stop(true);
    await cluster.pump(() => cluster.writableLeader() !== undefined, 'a new writable leader');
    const successor = cluster.writableLeader()!;
    assertSameTransactions(cluster, decided);
    assert.equal(await marker(cluster, successor, 5n, false), 6);
    // It stopped cleanly, so it comes back from its transactions checkpoint.
    const checkpointEnd = leader.partition.transactions.observedEnd;
    await leader.start();
    assert.equal(leader.partition.transactions.observedEnd, checkpointEnd, 'restored from the checkpoint');
    await settle(cluster);
    const final = { hw: 7, lso: 7, aborted: [decided.aborted[0]!, { producerId: 5n, firstOffset: 5, lastOffset: 6 }] };
    assertSameTransactions(cluster, final);
    // Every replica stops cleanly and starts again: the same facts.
    for (const b of cluster.brokers.values()) await b.stop(true);
    for (const b of cluster.brokers.values()) await b.start();
    await cluster.pump(() => cluster.writableLeader() !== undefined, 'a writable leader after the restart');
    await settle(cluster);
    assertSameTransactions(cluster, final);

  } finally {
    await cluster.stop();
  }
});

test('a follower that installs a snapshot knows the transactions open and aborted below it', async () => {
  const { cluster, leader } = await startCluster();
  try {
    assert.equal(await produce(cluster, leader, txnBatch(7n, 0, 1)), 0, 'producer 7 opens a transaction');
    await settle(cluster);
    const [behind, other] = IDS.filter((id) => id !== leader.id).map((id) => cluster.broker(id));
    await behind!.stop(false);
    assert.equal(await produce(cluster, leader, txnBatch(8n, 0, 1)), 1);
    for (let i = 0; i < 30; i++) await produce(cluster, leader, plainBatch([`v${i} ${'x'.repeat(200)}`]));
    const abortAt = await marker(cluster, leader, 8n, false);
    for (let i = 30; i < 40; i++) await produce(cluster, leader, plainBatch([`v${i} ${'x'.repeat(200)}`]));
    await settle(cluster);
    // The log start moves past both transactions' first batches (inside the aborted one).
    const start = abortAt - 5;
    const done = track(leader.partition.deleteRecords(start).then(() => undefined));
    await cluster.pump(() => done.state !== 'pending', 'the log start to commit');
    assert.equal(done.state, 'resolved', String(done.error));
    await settle(cluster);
    for (const b of [leader, other!]) {
      assert.ok((await b.replicas.retain(b.partition, cluster.clock.now())) > 0, `broker ${b.id} deleted segments`);
      assert.ok(b.partition.transactionsCheckpointedAt >= b.log.logStartOffset, 'checkpointed before the segments went');
    }
    const expected = { hw: leader.partition.highWatermark, lso: 0, aborted: [{ producerId: 8n, firstOffset: 1, lastOffset: abortAt }] };
    assertSameTransactions(cluster, expected);

    await behind!.start();
    await cluster.pump(() => behind!.replica.highWatermark === leader.log.endOffset, 'the follower to install the snapshot and catch up');
    assert.ok(behind!.log.logStartOffset > 1, `the follower's log was replaced (start ${behind!.log.logStartOffset})`);
    await settle(cluster);
    assertSameTransactions(cluster, expected);
    // Killed before it wrote a checkpoint of its own: the stored snapshot's state is the starting point.
    await behind!.stop(false);
    await behind!.start();
    await settle(cluster);
    assertSameTransactions(cluster, expected);

    // The commit of producer 7 is decided the same everywhere.
    const commit = await marker(cluster, leader, 7n, true);
    await settle(cluster);
    assertSameTransactions(cluster, { hw: commit + 1, lso: commit + 1, aborted: expected.aborted });
  } finally {
    await cluster.stop();
  }
});
