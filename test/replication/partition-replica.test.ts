// Goal: a partition replicated by PartitionReplica on three brokers behaves as a Kafka partition
// should: the leader stamps contiguous offsets and its epoch, a batch becomes visible only once a
// majority holds it, every replica stores byte-identical batches at the same offsets, followers
// refuse writes, an isolated leader's unacknowledged batch is refused and truncated while a new
// leader continues the offsets, idempotent retries are recognised across a leader change, a new
// leader takes writes only once its high watermark covers what its predecessor acknowledged, a
// follower that crashed catches up after it reopens its files, and a retry answered as a duplicate
// while its batch is in flight shares that batch's fate (it is never acknowledged for a lost batch),
// and DeleteRecords moves the log start of every replica alike, across restarts and retention; a
// leader reports its leadership again once it is ready for writes (so coordinators placed on it load
// then).
// Method: three in-process brokers (partition-replica-fixture.ts): real segment logs and Raft files
// in temp folders, MultiRaft hosts on a FakeNetwork whose messages move only when the test delivers
// them, RaftTickers on one hand-driven clock. Every wait is a bounded loop of rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAFT_PEER_TYPES } from '../../src/protocol/cluster/raft-codec.ts';
import type { AppendResult } from '../../src/replication/partition.ts';
import { logContent } from './partition-raft-log-helpers.ts';
import { append, Cluster, IDS, idempotentBatch, plainBatch, settle, startCluster, track, type Broker } from './partition-replica-fixture.ts';

const notLeader = { code: 'SB_ERR_NOT_LEADER' };

/** Appends `values` as one batch on `leader` and runs until it is visible. Returns its base offset. */
async function produce(cluster: Cluster, leader: Broker, values: readonly string[]): Promise<number> {
  const result = await append(leader, plainBatch(values));
  assert.equal(result.kind, 'appended');
  if (result.kind !== 'appended') throw new Error('unreachable');
  const visible = track(result.visible);
  await cluster.pump(() => visible.state !== 'pending', `batch ${values[0]} to become visible`);
  assert.equal(visible.state, 'resolved', String(visible.error));
  return result.baseOffset;
}

/** Asserts that every running broker holds the same batches at the same offsets, contiguous from 0. */
async function assertIdenticalLogs(cluster: Cluster): Promise<void> {
  const running = [...cluster.brokers.values()].filter((b) => b.up);
  const expected = await running[0]!.logBatches();
  assert.ok(expected.length > 0);
  for (const b of running) assert.deepEqual(await b.logBatches(), expected, `broker ${b.id} holds the same batches`);
  let next = 0;
  for (const { offset, values } of await logContent(running[0]!.log)) {
    assert.equal(offset, next, 'offsets are contiguous');
    next = offset + values.length;
  }
  assert.equal(next, running[0]!.log.endOffset);
}

/** An append result without its `visible` promise, for comparing. */
function withoutVisible(result: AppendResult): object {
  if (result.kind !== 'appended' && result.kind !== 'duplicate') return result;
  const { visible, ...rest } = result;
  void visible;
  return rest;
}

const messagesFrom = (cluster: Cluster, from: number, to: number) => cluster.network.queue.filter((w) => w.from === from && w.to === to && w.type === RAFT_PEER_TYPES.messages);

test('produce on the leader: contiguous offsets, visible only after a follower acknowledged, byte-identical replicas', async () => {
  const { cluster, leader } = await startCluster();
  try {
    const followers = IDS.filter((id) => id !== leader.id).map((id) => cluster.broker(id));
    const result = await append(leader, plainBatch(['a0', 'a1', 'a2']));
    assert.equal(result.kind, 'appended');
    if (result.kind !== 'appended') throw new Error('unreachable');
    assert.deepEqual([result.baseOffset, result.lastOffset], [0, 2]);
    const visible = track(result.visible);

    // The leader persists its entry, then sends it to both followers; nothing is visible yet.
    await cluster.await(() => followers.every((f) => messagesFrom(cluster, leader.id, f.id).length > 0), 'the appends to the followers');
    assert.equal(leader.log.endOffset, 3, 'the leader stored its batch');
    assert.equal(leader.replica.highWatermark, 0);
    assert.equal(visible.state, 'pending');

    cluster.network.deliver();
    await cluster.await(() => followers.every((f) => messagesFrom(cluster, f.id, leader.id).length > 0), 'the followers\' acknowledgements');
    for (const f of followers) assert.equal(f.log.endOffset, 3, `follower ${f.id} stored the batch before acknowledging`);
    assert.equal(leader.replica.highWatermark, 0, 'unacknowledged at the leader: the high watermark has not moved');
    assert.equal(visible.state, 'pending');
    assert.deepEqual((await leader.partition.read(0, 1 << 20)).buffers, [], 'consumers read nothing above the high watermark');

    // One acknowledgement makes a majority with the leader's own copy.
    const [first, second] = followers;
    const held = messagesFrom(cluster, second!.id, leader.id);
    cluster.network.queue = cluster.network.queue.filter((w) => !held.includes(w));
    cluster.network.deliver();
    await cluster.await(() => visible.state !== 'pending', 'the batch to become visible');
    assert.equal(visible.state, 'resolved');
    assert.equal(leader.replica.highWatermark, 3);
    assert.equal(leader.replica.highWatermark, leader.log.endOffset);
    assert.equal(first!.replica.highWatermark, 0, 'a follower learns of the commit only from the leader\'s next message');
    cluster.network.queue.push(...held);

    assert.equal(await produce(cluster, leader, ['b0']), 3);
    assert.equal(await produce(cluster, leader, ['c0', 'c1']), 4);
    await settle(cluster);
    assert.equal(leader.replica.highWatermark, 6);
    assert.equal(leader.replica.highWatermark, leader.log.endOffset);
    for (const b of cluster.brokers.values()) assert.equal(b.replica.highWatermark, 6, `broker ${b.id}`);
    await assertIdenticalLogs(cluster);
    const content = await logContent(leader.log);
    assert.deepEqual(content.map((c) => c.offset), [0, 3, 4]);
    for (const c of content) assert.equal(c.epoch, leader.replica.leaderEpoch, 'each batch carries the leader epoch (the term)');
    const read = await leader.partition.read(0, 1 << 20);
    assert.equal(read.nextOffset, 6);
  } finally {
    await cluster.stop();
  }
});

test('a follower refuses writes with SB_ERR_NOT_LEADER and is not writable', async () => {
  const { cluster, leader } = await startCluster();
  try {
    for (const id of IDS.filter((i) => i !== leader.id)) {
      const follower = cluster.broker(id);
      assert.equal(follower.replica.writable, false);
      assert.equal(follower.replica.leading, false);
      assert.equal(follower.partition.writable, false);
      await assert.rejects(append(follower, plainBatch(['x'])), notLeader);
      assert.equal(follower.log.endOffset, 0, 'nothing was stored');
    }
    assert.equal(leader.partition.writable, true);
    assert.equal(cluster.network.queue.length, 0, 'a refused write sends nothing');
  } finally {
    await cluster.stop();
  }
});

test('leader change: the isolated leader\'s batch is refused and truncated; the new leader continues the offsets', async () => {
  const { cluster, leader: old } = await startCluster();
  try {
    await produce(cluster, old, ['a0', 'a1']);
    await settle(cluster);
    const committedEnd = old.log.endOffset;

    cluster.isolate(old.id);
    const doomed = await append(old, plainBatch(['lost0', 'lost1', 'lost2']));
    assert.equal(doomed.kind, 'appended');
    if (doomed.kind !== 'appended') throw new Error('unreachable');
    assert.equal(doomed.baseOffset, committedEnd);
    const visible = track(doomed.visible);
    await cluster.pump(() => old.log.endOffset === committedEnd + 3, 'the isolated leader to store its batch');

    await cluster.pump(() => {
      const l = cluster.writableLeader();
      return l !== undefined && l.id !== old.id;
    }, 'a new writable leader');
    const next = cluster.writableLeader()!;
    assert.ok(next.replica.leaderEpoch > old.replica.leaderEpoch || !old.replica.leading, 'the new leader has a higher term');
    assert.equal(next.replica.highWatermark, committedEnd);
    assert.equal(await produce(cluster, next, ['c0']), committedEnd, 'the new leader reuses the offset of the uncommitted batch');

    // With checkQuorum the isolated leader steps down on its own; otherwise it learns after healing.
    await cluster.pump(() => visible.state !== 'pending' || !old.replica.leading, 'the old leader to step down');
    assert.equal(old.replica.writable, false);
    cluster.heal();
    await cluster.pump(() => visible.state !== 'pending', 'the old leader\'s proposal to end');
    assert.equal(visible.state, 'rejected');
    assert.equal((visible.error as { code?: string }).code, 'SB_ERR_NOT_LEADER');

    assert.equal(await produce(cluster, next, ['d0', 'd1']), committedEnd + 1);
    await settle(cluster);
    await assertIdenticalLogs(cluster);
    const values = (await logContent(old.log)).flatMap((c) => c.values);
    assert.deepEqual(values, ['a0', 'a1', 'c0', 'd0', 'd1'], 'the old leader truncated its uncommitted batch');
    await assert.rejects(append(old, plainBatch(['late'])), notLeader);
  } finally {
    await cluster.stop();
  }
});

test('a leader reports its leadership again, once, when it becomes ready for writes, also after a leader change', async () => {
  const { cluster, leader: first } = await startCluster();
  try {
    const readyReports = (b: Broker, term: number) => b.leaderships.filter((l) => l.leader === b.id && l.term === term && l.writable);
    // The election is reported before the replica is writable; the coordinator placement checks on it.
    assert.ok(first.leaderships.some((l) => l.leader === first.id && l.term === first.replica.leaderEpoch && !l.writable), 'the election is reported');
    assert.equal(readyReports(first, first.replica.leaderEpoch).length, 1, 'readiness for writes is reported once');
    await produce(cluster, first, ['a0']);
    assert.equal(readyReports(first, first.replica.leaderEpoch).length, 1, 'applying more of its term reports nothing more');

    cluster.isolate(first.id);
    await cluster.pump(() => {
      const l = cluster.writableLeader();
      return l !== undefined && l.id !== first.id;
    }, 'a new writable leader');
    const next = cluster.writableLeader()!;
    assert.equal(readyReports(next, next.replica.leaderEpoch).length, 1, 'the new leader reports its readiness for writes');
    for (const b of cluster.brokers.values()) {
      if (b !== next) assert.equal(readyReports(b, next.replica.leaderEpoch).length, 0, `broker ${b.id} does not lead`);
    }
    cluster.heal();
    await settle(cluster);
  } finally {
    await cluster.stop();
  }
});

test('idempotence across leadership: the new leader answers a retry as a duplicate with its original offset', async () => {
  const { cluster, leader: first } = await startCluster();
  try {
    await produce(cluster, first, ['before']);
    const original = idempotentBatch(42n, 0, 3);
    const result = await append(first, original, true);
    assert.equal(result.kind, 'appended');
    if (result.kind !== 'appended') throw new Error('unreachable');
    assert.equal(result.baseOffset, 1);
    const visible = track(result.visible);
    await cluster.pump(() => visible.state !== 'pending', 'the idempotent batch to commit');
    assert.equal(visible.state, 'resolved');
    assert.deepEqual(withoutVisible(await append(first, original, true)), { kind: 'duplicate', baseOffset: 1 }, 'the first leader recognises the retry');
    await settle(cluster);

    const target = cluster.broker(IDS.find((id) => id !== first.id)!);
    assert.equal(first.replica.driver.transferLeader(target.id).accepted, true);
    await cluster.pump(() => cluster.writableLeader() === target, `broker ${target.id} to lead and take writes`);
    assert.equal(first.replica.writable, false);

    const retry = await append(target, original, true);
    assert.deepEqual(withoutVisible(retry), { kind: 'duplicate', baseOffset: 1 }, 'the new leader rebuilt the producer state');
    if (retry.kind === 'duplicate') await retry.visible;
    assert.equal(target.log.endOffset, 4, 'the retry stored nothing');
    const gap = idempotentBatch(42n, 5, 1);
    assert.deepEqual(await append(target, gap, true), { kind: 'out-of-order' });
    const following = await append(target, idempotentBatch(42n, 3, 2), true);
    assert.equal(following.kind, 'appended');
    if (following.kind !== 'appended') throw new Error('unreachable');
    assert.deepEqual([following.baseOffset, following.lastOffset], [4, 5]);
    const done = track(following.visible);
    await cluster.pump(() => done.state !== 'pending', 'the next sequence to commit');
    assert.equal(done.state, 'resolved');
    await settle(cluster);
    await assertIdenticalLogs(cluster);
  } finally {
    await cluster.stop();
  }
});

test('a new leader takes writes only once its high watermark covers what the previous leader acknowledged', async () => {
  const { cluster, leader: old } = await startCluster();
  try {
    await produce(cluster, old, ['a0']);
    await settle(cluster);
    const followers = IDS.filter((id) => id !== old.id).map((id) => cluster.broker(id));

    // The leader commits a batch; the followers hold it but never hear that it committed.
    const result = await append(old, plainBatch(['b0', 'b1']));
    assert.equal(result.kind, 'appended');
    if (result.kind !== 'appended') throw new Error('unreachable');
    const visible = track(result.visible);
    await cluster.await(() => followers.every((f) => messagesFrom(cluster, old.id, f.id).length > 0), 'the appends');
    cluster.network.deliver();
    await cluster.await(() => followers.every((f) => messagesFrom(cluster, f.id, old.id).length > 0), 'the acknowledgements');
    cluster.network.deliver();
    await cluster.await(() => visible.state !== 'pending', 'the leader to acknowledge');
    assert.equal(visible.state, 'resolved');
    const acknowledged = old.replica.highWatermark;
    assert.equal(acknowledged, 3);
    cluster.isolate(old.id);
    for (const f of followers) assert.ok(f.replica.highWatermark < acknowledged, `follower ${f.id} does not know the commit yet`);

    let leadingBehind = 0;
    await cluster.pump(
      () => followers.some((f) => f.replica.writable),
      'a new writable leader',
      {
        check: () => {
          for (const f of followers) {
            if (f.replica.writable) assert.ok(f.replica.highWatermark >= acknowledged, `broker ${f.id} is writable at high watermark ${f.replica.highWatermark} < ${acknowledged}`);
            else if (f.replica.leading && f.replica.highWatermark < acknowledged) leadingBehind++;
          }
        },
      },
    );
    const next = followers.find((f) => f.replica.writable)!;
    assert.equal(next.replica.highWatermark, acknowledged);
    assert.ok(leadingBehind > 0, 'the new leader led for a while before its high watermark caught up, and took no writes then');
    const read = await next.partition.read(0, 1 << 20);
    assert.equal(read.nextOffset, acknowledged, 'consumers of the new leader read everything acknowledged');
    assert.equal(await produce(cluster, next, ['c0']), acknowledged);
    cluster.heal();
    await settle(cluster);
    await assertIdenticalLogs(cluster);
  } finally {
    await cluster.stop();
  }
});

test('a follower that crashed reopens its files, catches up and holds the same log', async () => {
  const { cluster, leader } = await startCluster();
  try {
    await produce(cluster, leader, ['a0', 'a1']);
    await settle(cluster);
    const follower = cluster.broker(IDS.find((id) => id !== leader.id)!);
    await follower.stop(false);

    for (let i = 0; i < 5; i++) await produce(cluster, leader, [`b${i}`, `b${i}.1`]);
    assert.equal(follower.log.endOffset, 2, 'the stopped follower missed the new batches');
    await follower.start();
    assert.equal(follower.log.endOffset, 2, 'the reopened log kept what the follower had stored');
    await cluster.pump(() => follower.replica.highWatermark === leader.log.endOffset, 'the follower to catch up');
    assert.equal(follower.log.endOffset, 12);
    assert.equal(follower.replica.writable, false);
    await produce(cluster, leader, ['c0']);
    await settle(cluster);
    await assertIdenticalLogs(cluster);
  } finally {
    await cluster.stop();
  }
});

test('a retry answered as a duplicate before its batch committed is not acknowledged if the batch is then lost', async () => {
  const { cluster, leader: old } = await startCluster();
  try {
    await produce(cluster, old, ['a0']);
    await settle(cluster);
    const original = idempotentBatch(7n, 0, 2);

    // The leader proposes the batch, then loses its followers before anyone acknowledges it.
    cluster.isolate(old.id);
    const first = await append(old, original, true);
    assert.equal(first.kind, 'appended');
    if (first.kind !== 'appended') throw new Error('unreachable');
    const firstVisible = track(first.visible);
    // The producer's request timed out; its retry reaches the same broker while the batch is in flight.
    const retry = await append(old, original, true);
    assert.equal(retry.kind, 'duplicate');
    if (retry.kind !== 'duplicate') throw new Error('unreachable');
    assert.equal(retry.baseOffset, first.baseOffset);
    // A duplicate is acknowledged only once its original batch is visible: it must come with a
    // promise to wait for (the produce handler acknowledges at once otherwise).
    const retryOutcome = track(retry.visible);
    assert.equal(retryOutcome.state, 'pending');

    await cluster.pump(() => {
      const l = cluster.writableLeader();
      return l !== undefined && l.id !== old.id;
    }, 'a new writable leader');
    const next = cluster.writableLeader()!;
    assert.equal(await produce(cluster, next, ['other']), first.baseOffset, 'the new leader reuses the offset');
    cluster.heal();
    await cluster.pump(() => firstVisible.state !== 'pending' && retryOutcome.state !== 'pending', 'the old leader\'s answers to end');
    await settle(cluster);
    await assertIdenticalLogs(cluster);
    assert.equal(firstVisible.state, 'rejected');
    const stored = (await logContent(next.log)).find((c) => c.offset === first.baseOffset)!;
    assert.deepEqual(stored.values, ['other'], 'the batch the retry was answered for is gone');
    assert.equal(retryOutcome.state, 'rejected', `the retry was acknowledged at offset ${retry.baseOffset}, which now holds another batch`);
    assert.equal((retryOutcome.error as { code?: string }).code, 'SB_ERR_NOT_LEADER');
  } finally {
    await cluster.stop();
  }
});

test('DeleteRecords is committed through the group: every replica answers the new log start, keeps it across a restart, and retention deletes the segments below it', async () => {
  const { cluster, leader } = await startCluster();
  try {
    for (let i = 0; i < 40; i++) await produce(cluster, leader, [`v${i} ${'x'.repeat(200)}`]);
    await settle(cluster);
    const [first, second] = IDS.filter((id) => id !== leader.id).map((id) => cluster.broker(id));
    await assert.rejects(first!.partition.deleteRecords(25), notLeader, 'a follower refuses it');
    await assert.rejects(leader.partition.deleteRecords(41), { code: 'SB_ERR_OFFSET_OUT_OF_RANGE' }, 'past the high watermark');

    const done = track(leader.partition.deleteRecords(25).then(() => undefined));
    await cluster.pump(() => done.state !== 'pending', 'the log start to commit');
    assert.equal(done.state, 'resolved', String(done.error));
    await settle(cluster);
    for (const b of cluster.brokers.values()) assert.equal(b.partition.logStartOffset, 25, `broker ${b.id}`);
    await assert.rejects(leader.partition.read(24, 1 << 20), { code: 'SB_ERR_OFFSET_OUT_OF_RANGE' });
    assert.ok(leader.log.segmentBaseOffsets().length > 2, 'the batches span several segments');

    // The second follower restarts before any retention: it reads the log start back from its Raft log.
    await second!.stop(false);
    await second!.start();
    assert.equal(second!.partition.logStartOffset, 25, 'a restarted replica keeps the log start');

    for (const b of cluster.brokers.values()) {
      const before = b.log.segmentBaseOffsets();
      const deleted = await b.replicas.retain(b.partition, cluster.clock.now());
      const after = b.log.segmentBaseOffsets();
      assert.ok(deleted > 0, `broker ${b.id} deleted segments below 25: ${before.join(',')} -> ${after.join(',')}`);
      assert.ok(after[0]! <= 25 && (after[1] === undefined || after[1] > 25), `broker ${b.id} keeps the segment holding 25: ${after.join(',')}`);
      assert.equal(b.partition.logStartOffset, 25);
    }
    await first!.stop(false);
    await first!.start();
    assert.equal(first!.partition.logStartOffset, 25, 'and after retention too');
    await cluster.pump(() => first!.replica.highWatermark === leader.log.endOffset, 'the restarted follower to catch up');
    assert.equal(await produce(cluster, leader, ['after']), 40);
  } finally {
    await cluster.stop();
  }
});
