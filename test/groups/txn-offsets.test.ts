// Goal: offsets committed in a transaction (TxnOffsetCommit) follow Kafka's group coordinator: they
// are written at once as one transactional batch of the producer, stay invisible to OffsetFetch
// (require_stable answers UNSTABLE_OFFSET_COMMIT) until completeTransaction(commit), are dropped on
// abort, replace a committed offset only when they lie later in the log, and a replay of the log
// (markers interleaved with the batches of several producers, some transactions still open) gives
// the same answers as the live coordinator. Validation: group id, member fencing, producer epoch;
// DeleteGroups and offset expiry with pending offsets.
// Method: fake time and the in-memory log; markers are added to the log as WriteTxnMarkers would
// write them on the offsets partition, followed by completeTransaction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { GroupCoordinator } from '../../src/groups/group-coordinator.ts';
import type { OffsetCommitResponse, TxnOffsetCommitRequest } from '../../src/groups/group-api.ts';
import { decodeKey, decodeOffsetCommitValue } from '../../src/groups/offsets-records.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { commitRequest, formGroup, makeCoordinator, type Harness } from './harness.ts';
import { MemoryOffsetsLog } from './memory-offsets-log.ts';

/** A record key as text: `group/topic/partition`, or `group <id>`. */
function keyText(key: Buffer): string {
  const k = decodeKey(key);
  return k.kind === 'offset' ? `${k.group}/${k.topic}/${k.partition}` : k.kind === 'group' ? `group ${k.group}` : 'unknown';
}

const codes = (r: OffsetCommitResponse) => r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));

function txnCommit(producerId: bigint, offsets: Record<string, Record<number, bigint>>, over: Partial<TxnOffsetCommitRequest> = {}): TxnOffsetCommitRequest {
  const plain = commitRequest(offsets);
  return { transactionalId: `tx-${producerId}`, groupId: 'g', producerId, producerEpoch: 0, generationId: -1, memberId: '', groupInstanceId: null, topics: plain.topics, ...over };
}

/** The committed offset (or error) of each partition, with or without require_stable. */
function fetch(c: GroupCoordinator, topic: string, partitions: number[], requireStable = false, groupId = 'g'): (bigint | string)[] {
  const r = c.offsetFetch({ groupId, topics: [{ name: topic, partitionIndexes: partitions }], requireStable });
  return r.topics[0]!.partitions.map((p) => (p.errorCode === E.NONE ? p.committedOffset : `error ${p.errorCode}`));
}

/** Writes the producer's marker to the log, then tells the coordinator: what WriteTxnMarkers does on the offsets partition. */
function decide(h: Harness, producerId: bigint, commit: boolean): number {
  h.log.marker(producerId, commit);
  return h.coordinator.completeTransaction(producerId, commit);
}

async function reload(h: Harness): Promise<GroupCoordinator> {
  h.coordinator.close();
  const c = new GroupCoordinator({ log: h.log, clock: h.time, newId: () => 'x' });
  await c.load();
  return c;
}

test('transactional offsets are one transactional batch, invisible until the commit; require_stable answers UNSTABLE_OFFSET_COMMIT meanwhile', async () => {
  const h = await makeCoordinator();
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 5n } }))), [E.NONE]);
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(7n, { t: { 0: 10n, 1: 20n } }, { producerEpoch: 3 }))), [E.NONE, E.NONE]);
  const batch = h.log.entries[h.log.entries.length - 1]!;
  assert.ok(batch.kind === 'batch');
  assert.deepEqual(batch.transaction, { producerId: 7n, producerEpoch: 3 });
  assert.deepEqual(batch.records.map((r) => [keyText(r.key), decodeOffsetCommitValue(r.value!).offset]), [
    ['g/t/0', 10n],
    ['g/t/1', 20n],
  ]);
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1, 2]), [5n, -1n, -1n], 'the last committed offsets, without require_stable');
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1, 2], true), [`error ${E.UNSTABLE_OFFSET_COMMIT}`, `error ${E.UNSTABLE_OFFSET_COMMIT}`, -1n]);
  const all = h.coordinator.offsetFetch({ groupId: 'g', topics: null, requireStable: true });
  assert.deepEqual(all.topics.map((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode])), [[[0, E.UNSTABLE_OFFSET_COMMIT]]], 'every committed partition; pending ones are not listed yet');
  assert.equal(decide(h, 7n, true), 2);
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1, 2], true), [10n, 20n, -1n]);
  assert.equal(h.coordinator.inspectGroup('g')!.committedOffsetCount, 2);
});

test('an abort drops the pending offsets and keeps the committed ones; a second decision for the producer changes nothing', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 5n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(7n, { t: { 0: 10n, 1: 20n } }));
  assert.equal(decide(h, 7n, false), 0);
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1], true), [5n, -1n]);
  assert.equal(decide(h, 7n, true), 0, 'a retried marker finds nothing pending');
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1], true), [5n, -1n]);
});

test("on commit a pending offset replaces only a committed offset written before it (Kafka's log-order rule)", async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(7n, { t: { 0: 10n, 1: 11n } }));
  // A plain commit written while the transaction is open lies later in the log: it stays.
  await h.coordinator.offsetCommit(commitRequest({ t: { 1: 99n } }));
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1]), [1n, 99n]);
  assert.equal(decide(h, 7n, true), 1);
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1], true), [10n, 99n]);
  const replayed = await reload(h);
  assert.deepEqual(fetch(replayed, 't', [0, 1], true), [10n, 99n], 'replay applies the same rule');
});

test('two producers interleaved: each transaction is decided on its own, the later record of a partition wins', async () => {
  const h = await makeCoordinator();
  await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 100n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(2n, { t: { 0: 200n, 1: 201n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 2: 102n } }));
  assert.equal(decide(h, 2n, true), 2);
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1, 2], true), [`error ${E.UNSTABLE_OFFSET_COMMIT}`, 201n, `error ${E.UNSTABLE_OFFSET_COMMIT}`], 'producer 1 still holds partitions 0 and 2');
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1, 2]), [200n, 201n, -1n]);
  // Producer 1's offset of partition 0 lies before producer 2's: committed, it does not replace it.
  assert.equal(decide(h, 1n, true), 1);
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1, 2], true), [200n, 201n, 102n]);
});

test('replay holds transactional batches until their marker: commit applied, abort dropped, undecided still pending (and decided later)', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n, 1: 1n, 2: 1n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 10n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(2n, { t: { 1: 20n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(3n, { t: { 2: 30n } }));
  decide(h, 2n, false);
  await h.coordinator.txnOffsetCommit(txnCommit(1n, { u: { 0: 11n } }));
  decide(h, 1n, true);
  // Producer 1 again, in a new transaction that no marker decided yet.
  await h.coordinator.txnOffsetCommit(txnCommit(1n, { u: { 1: 12n } }));
  const live = [fetch(h.coordinator, 't', [0, 1, 2], true), fetch(h.coordinator, 'u', [0, 1], true), fetch(h.coordinator, 't', [0, 1, 2])];
  assert.deepEqual(live, [
    [10n, 1n, `error ${E.UNSTABLE_OFFSET_COMMIT}`],
    [11n, `error ${E.UNSTABLE_OFFSET_COMMIT}`],
    [10n, 1n, 1n],
  ]);
  const replayed = await reload(h);
  assert.deepEqual([fetch(replayed, 't', [0, 1, 2], true), fetch(replayed, 'u', [0, 1], true), fetch(replayed, 't', [0, 1, 2])], live);
  // The markers of the open transactions come after the load.
  h.log.marker(3n, true);
  assert.equal(replayed.completeTransaction(3n, true), 1);
  h.log.marker(1n, false);
  assert.equal(replayed.completeTransaction(1n, false), 0);
  assert.deepEqual([fetch(replayed, 't', [0, 1, 2], true), fetch(replayed, 'u', [0, 1], true)], [[10n, 1n, 30n], [11n, -1n]]);
  replayed.close();
  const again = new GroupCoordinator({ log: h.log, clock: h.time, newId: () => 'x' });
  await again.load();
  assert.deepEqual([fetch(again, 't', [0, 1, 2], true), fetch(again, 'u', [0, 1], true)], [[10n, 1n, 30n], [11n, -1n]]);
});

test('a group known only from pending offsets comes back from replay, Empty', async () => {
  const h = await makeCoordinator();
  await h.coordinator.txnOffsetCommit(txnCommit(4n, { t: { 0: 40n } }, { groupId: 'only-txn' }));
  const replayed = await reload(h);
  assert.equal(replayed.inspectGroup('only-txn')?.state, 'Empty');
  assert.deepEqual(fetch(replayed, 't', [0], true, 'only-txn'), [`error ${E.UNSTABLE_OFFSET_COMMIT}`]);
  h.log.marker(4n, true);
  replayed.completeTransaction(4n, true);
  assert.deepEqual(fetch(replayed, 't', [0], true, 'only-txn'), [40n]);
});

test('a decision that arrives while the coordinator loads is applied once the log is replayed', async () => {
  const h = await makeCoordinator();
  await h.coordinator.txnOffsetCommit(txnCommit(5n, { t: { 0: 50n } }));
  h.coordinator.close();
  const c = new GroupCoordinator({ log: h.log, clock: h.time, newId: () => 'x' });
  // The marker lands after the replay read the log's end (the replay iterator copies the entries).
  const loading = c.load();
  h.log.marker(5n, true);
  assert.equal(c.completeTransaction(5n, true), 0);
  await loading;
  assert.deepEqual(fetch(c, 't', [0], true), [50n]);
});

test('validation: group id, producer id, member fencing when a member is named, none when not', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }, { groupId: '' }))), [E.INVALID_GROUP_ID]);
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(-1n, { t: { 0: 1n } }))), [E.INVALID_REQUEST]);
  const { joins } = await formGroup(h, 1, () => ({ groupInstanceId: 'i0' }));
  const member = joins[0]!;
  const base = { generationId: member.generationId, memberId: member.memberId, groupInstanceId: 'i0' };
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }, { ...base, generationId: member.generationId + 1 }))), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }, { ...base, groupInstanceId: null, memberId: 'stranger' }))), [E.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }, { ...base, memberId: 'old-incarnation' }))), [E.FENCED_INSTANCE_ID]);
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }, base))), [E.NONE]);
  // Versions before 3 name no member: accepted whatever the group's state (here Stable).
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(2n, { t: { 1: 1n } }))), [E.NONE]);
});

test('a producer epoch older than one seen for the producer id answers INVALID_PRODUCER_EPOCH, also after a replay', async () => {
  const h = await makeCoordinator();
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(8n, { t: { 0: 1n } }, { producerEpoch: 4 }))), [E.NONE]);
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(8n, { t: { 0: 2n } }, { producerEpoch: 3 }))), [E.INVALID_PRODUCER_EPOCH]);
  const appends = h.log.appendCalls;
  const replayed = await reload(h);
  assert.deepEqual(codes(await replayed.txnOffsetCommit(txnCommit(8n, { t: { 0: 2n } }, { producerEpoch: 3 }))), [E.INVALID_PRODUCER_EPOCH]);
  assert.equal(h.log.appendCalls, appends, 'a fenced request writes nothing');
  assert.deepEqual(codes(await replayed.txnOffsetCommit(txnCommit(8n, { t: { 0: 3n } }, { producerEpoch: 5 }))), [E.NONE]);
});

test('a failed append answers COORDINATOR_NOT_AVAILABLE and leaves nothing pending', async () => {
  const h = await makeCoordinator();
  h.log.failNext = 1;
  assert.deepEqual(codes(await h.coordinator.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }))), [E.COORDINATOR_NOT_AVAILABLE]);
  assert.deepEqual(fetch(h.coordinator, 't', [0], true), [-1n]);
});

test('DeleteGroups removes pending offsets with the group: a later commit marker brings nothing back, live or replayed', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(6n, { t: { 0: 60n, 1: 61n } }));
  assert.deepEqual(await h.coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: E.NONE }]);
  const tombstones = h.log.records.slice(-3).map((r) => [keyText(r.key), r.value]);
  assert.deepEqual(tombstones, [
    ['g/t/0', null],
    ['g/t/1', null],
    ['group g', null],
  ]);
  assert.equal(decide(h, 6n, true), 0);
  assert.equal(h.coordinator.inspectGroup('g'), undefined);
  const replayed = await reload(h);
  assert.equal(replayed.inspectGroup('g'), undefined);
  assert.deepEqual(fetch(replayed, 't', [0, 1], true), [-1n, -1n]);
});

test('offset expiry keeps pending offsets, the committed offset of their partition, and their group', async () => {
  const h = await makeCoordinator({ offsetsRetentionMs: 1_000 });
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n, 1: 1n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(9n, { t: { 0: 90n } }));
  await h.coordinator.txnOffsetCommit(txnCommit(9n, { u: { 0: 91n } }, { groupId: 'pending-only' }));
  h.time.advance(5_000);
  assert.deepEqual(await h.coordinator.expireOffsets(), { offsetsRemoved: 1, groupsRemoved: 0 });
  assert.deepEqual(fetch(h.coordinator, 't', [0, 1]), [1n, -1n]);
  assert.equal(h.coordinator.inspectGroup('pending-only')?.state, 'Empty');
  decide(h, 9n, true);
  assert.deepEqual(fetch(h.coordinator, 't', [0], true), [90n]);
  assert.deepEqual(fetch(h.coordinator, 'u', [0], true, 'pending-only'), [91n]);
});

test('an unloaded coordinator answers TxnOffsetCommit COORDINATOR_LOAD_IN_PROGRESS, one elsewhere NOT_COORDINATOR', async () => {
  const loading = new GroupCoordinator({ log: new MemoryOffsetsLog(), clock: new ManualClock(), newId: () => 'x' });
  assert.deepEqual(codes(await loading.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }))), [E.COORDINATOR_LOAD_IN_PROGRESS]);
  const elsewhere = GroupCoordinator.elsewhere({ clock: new ManualClock(), newId: () => 'x' });
  assert.deepEqual(codes(await elsewhere.txnOffsetCommit(txnCommit(1n, { t: { 0: 1n } }))), [E.NOT_COORDINATOR]);
});
