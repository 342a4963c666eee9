// Goal: the controller's Raft group gives every broker the same metadata, and any broker can change
// it: the first leader names the cluster, commands submitted on a follower are forwarded to the
// leader and answered with the result they had where they applied, and the submitter reads the
// effect at once. Failure paths: no leader (timeout), a leader change (commands go to the new one),
// malformed forwarded commands (refused with a reason, nothing applied, nobody crashes).
// Method: three production drivers over memory logs, messages delivered by hand (harness).
import test from 'node:test';
import assert from 'node:assert/strict';
import type { MetadataCommand } from '../../../src/metadata/cluster-state.ts';
import { MSG_ANSWER, MSG_FORWARD } from '../../../src/replication/controller/controller-channel.ts';
import { ControllerStateMachine } from '../../../src/replication/controller/controller-state-machine.ts';
import { ControllerHarness } from './controller-harness.ts';

const topic = (name: string, assignments: number[][] = [[1, 2, 3]]): MetadataCommand => ({
  type: 'create-topic',
  name,
  topicId: `00000000-0000-4000-8000-${String(name.length).padStart(12, '0')}`,
  partitions: assignments.length,
  replicationFactor: assignments[0]!.length,
  assignments,
  configs: {},
  timestampMs: 1,
});

const register = (id: number): MetadataCommand => ({
  type: 'register-broker',
  id,
  incarnationId: `00000000-0000-4000-8000-00000000000${id}`,
  host: '127.0.0.1',
  port: 9000 + id,
  grpcPort: 9100 + id,
  rack: null,
  timestampMs: 1,
});

async function namedCluster(): Promise<ControllerHarness> {
  const h = new ControllerHarness([1, 2, 3]);
  await h.elect(1);
  for (const id of [1, 2, 3]) assert.equal(h.meta(id).initialised, true, `broker ${id} has no cluster id`);
  for (const id of [1, 2, 3]) assert.equal(await h.finish(h.meta(id).submit(register(id))).then((r) => r.error), null);
  return h;
}

test('the first leader names the cluster once, and every broker applies the same id', async () => {
  const h = new ControllerHarness([1, 2, 3]);
  for (const id of [1, 2, 3]) assert.equal(h.meta(id).initialised, false);
  await h.elect(1);
  const ids = [1, 2, 3].map((id) => h.meta(id).state.clusterId);
  assert.deepEqual(ids, ['cluster-1', 'cluster-1', 'cluster-1']);
});

test('a command submitted on a follower is forwarded, applied everywhere, and visible to the submitter at once', async () => {
  const h = await namedCluster();
  const result = await h.finish(h.meta(3).submit(topic('orders')));
  assert.equal(result.error, null);
  assert.deepEqual(h.meta(3).state.topic('orders')?.assignments, [[1, 2, 3]]);
  await h.settle();
  for (const id of [1, 2]) assert.ok(h.meta(id).state.topic('orders'), `broker ${id} lacks the topic`);
  assert.deepEqual(h.meta(2).state.brokers().map((b) => b.id), [1, 2, 3]);
});

test('a refused command answers with the reason the leader found, from any broker', async () => {
  const h = await namedCluster();
  assert.equal((await h.finish(h.meta(1).submit(topic('orders')))).error, null);
  const again = await h.finish(h.meta(2).submit(topic('orders')));
  assert.equal(again.error, 'TOPIC_ALREADY_EXISTS');
  const unknown = await h.finish(h.meta(3).submit(topic('bad', [[1, 9]])));
  assert.equal(unknown.error, 'INVALID_REPLICA_ASSIGNMENT');
});

test('producer ids drawn on different brokers never collide', async () => {
  const h = await namedCluster();
  const seen = new Set<bigint>();
  for (const id of [1, 2, 3, 2, 1]) {
    const pid = await h.finish(h.meta(id).nextProducerId());
    assert.ok(!seen.has(pid), `producer id ${pid} handed out twice`);
    seen.add(pid);
  }
  // Three brokers drew from three different blocks.
  assert.equal(new Set([...seen].map((p) => p / 1000n)).size, 3);
});

test('without a leader a submit ends with REQUEST_TIMED_OUT after the timeout, and nothing applies', async () => {
  const h = new ControllerHarness([1, 2, 3], 500);
  await h.elect(1);
  h.isolated.add(1);
  h.isolated.add(2);
  const started = h.clock.now();
  const result = await h.finish(h.meta(3).submit(topic('orders')));
  assert.equal(result.error, 'REQUEST_TIMED_OUT');
  assert.ok(h.clock.now() - started >= 500);
  assert.equal(h.meta(3).state.topic('orders'), undefined);
});

test('after the leader is cut off, a new leader takes commands forwarded from the others', async () => {
  const h = await namedCluster();
  h.isolated.add(1);
  await h.elect(2);
  const result = await h.finish(h.meta(3).submit(topic('after-failover')));
  assert.equal(result.error, null);
  assert.ok(h.meta(2).state.topic('after-failover'));
  assert.equal(h.meta(1).state.topic('after-failover'), undefined, 'the cut-off broker cannot have applied it');
  h.isolated.clear();
  // Broker 1 may still believe it leads (its term is older): a command it takes then is lost with
  // NOT_CONTROLLER, which a client retries; the retry goes to the new leader.
  let result2 = await h.finish(h.meta(1).submit(topic('later')));
  for (let i = 0; i < 5 && result2.error === 'NOT_CONTROLLER'; i++) result2 = await h.finish(h.meta(1).submit(topic('later')));
  assert.equal(result2.error, null);
  assert.ok(h.meta(1).state.topic('later'));
  assert.ok(h.meta(1).state.topic('after-failover'), 'the returning broker caught up');
  assert.equal(h.drivers.get(2)!.raft.isLeader, true);
});

test('a command forwarded to a leader that dies unanswered ends with NOT_CONTROLLER once another broker is elected, not at the timeout', async () => {
  const h = await namedCluster();
  h.isolated.add(1);
  const started = h.clock.now();
  // Broker 3 still takes 1 for the leader: the forward is sent and never answered.
  const submitted = h.meta(3).submit(topic('lost-leader'));
  await h.settle();
  await h.elect(2);
  const result = await h.finish(submitted);
  assert.equal(result.error, 'NOT_CONTROLLER');
  assert.match(result.message ?? '', /stopped leading the controller before answering/);
  assert.ok(h.clock.now() - started < 2_000, `the wait ended after ${h.clock.now() - started} ms (timeout 5000 ms)`);
  // The caller's retry reaches the new leader.
  assert.equal((await h.finish(h.meta(3).submit(topic('lost-leader')))).error, null);
});

test('malformed forwarded commands are refused with a reason; garbage is ignored; nobody crashes', async () => {
  const h = await namedCluster();
  const before = h.drivers.get(1)!.raft.lastIndex;
  h.inject(2, 1, { type: MSG_FORWARD, body: [7, { type: 'create-topic', name: 'x' }] });
  h.inject(2, 1, { type: MSG_FORWARD, body: [8, { type: 'allocate-producer-ids', count: -5 }] });
  h.inject(2, 1, { type: MSG_FORWARD, body: 'garbage' });
  h.inject(2, 1, { type: MSG_FORWARD, body: [0, null] });
  h.inject(1, 2, { type: MSG_ANSWER, body: [99, 0, 'NO_SUCH_ERROR', null, null, 0] });
  h.inject(1, 2, { type: MSG_ANSWER, body: { a: 1 } });
  await h.settle();
  const answers = h.warnings.filter((w) => w.message.includes('malformed'));
  assert.ok(answers.length >= 3, `expected warnings, got ${JSON.stringify(h.warnings)}`);
  assert.equal(h.drivers.get(1)!.raft.lastIndex, before, 'a refused command reached the log');
  // The cluster still works.
  assert.equal((await h.finish(h.meta(2).submit(topic('still-fine')))).error, null);
});

test('a snapshot restores the same state, and an empty snapshot means not named yet', async () => {
  const h = await namedCluster();
  await h.finish(h.meta(2).submit(topic('orders')));
  const machine = h.machines.get(1)!;
  const copy = new ControllerStateMachine();
  copy.restore({ metadata: { index: 9, term: 1, confState: { voters: [1, 2, 3], learners: [] } }, data: machine.snapshot() });
  assert.deepEqual(copy.state?.snapshot(), machine.state?.snapshot());
  copy.restore({ metadata: { index: 0, term: 0, confState: { voters: [1], learners: [] } }, data: new Uint8Array(0) });
  assert.equal(copy.state, null);
});

test('a broker outside the group registers through the listed brokers, learning the leader from one that does not lead, and follows once added as a learner', async () => {
  const h = new ControllerHarness([1, 2, 3], 5_000, [4]);
  await h.elect(2);
  assert.equal(h.meta(4).leaderId, -1, 'the added broker hears of no leader on its own');
  const registering = h.meta(4).submit(register(4));
  // The leader applies the registration; the test plays the leader's part of adding the learner.
  for (let i = 0; i < 200 && h.meta(2).state.broker(4) === undefined; i++) {
    h.clock.advance(10);
    await h.settle();
  }
  assert.ok(h.meta(2).state.broker(4), 'the registration reached the leader through broker 1 (asked first)');
  assert.equal(h.meta(4).initialised, false, 'not a member yet: nothing applied on broker 4');
  assert.equal(h.drivers.get(2)!.proposeConfChange({ type: 'addLearner', nodeId: 4 }, () => undefined).accepted, true);
  const result = await h.finish(registering);
  assert.equal(result.error, null, result.message);
  assert.equal(h.meta(4).state.broker(4)?.id, 4, 'broker 4 reads its own registration');
  assert.equal(h.meta(4).leaderId, 2);
  assert.deepEqual(h.drivers.get(4)!.raft.confState().learners, [4]);
  // As a learner it follows later commands and never campaigns.
  assert.equal((await h.finish(h.meta(3).submit(topic('after', [[4]])))).error, null);
  await h.settle();
  assert.ok(h.meta(4).state.topic('after'));
  for (let i = 0; i < 100; i++) h.drivers.get(4)!.tick();
  await h.settle();
  assert.equal(h.drivers.get(2)!.raft.isLeader, true, 'the learner did not disturb the leader');
});

