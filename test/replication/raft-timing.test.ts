// Goal: the guide's Raft timeouts map onto ticks so that a follower stands between half of
// raft.electionTimeout and all of it, heartbeats keep their interval, and the election base always
// exceeds the heartbeat interval.
// Method: the guide's values, the tests' short ones, and edge cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { raftTiming } from '../../src/replication/raft-timing.ts';

test('guide timeouts (1 s / 3 s): 100 ms ticks, a heartbeat every 10, standing after 15 to 29 ticks', () => {
  assert.deepEqual(raftTiming(1000, 3000), { tickMs: 100, heartbeatTicks: 10, electionTicks: 15, probeRetryTicks: 2 });
});

test('short test timeouts (100 ms / 600 ms)', () => {
  const t = raftTiming(100, 600);
  assert.deepEqual(t, { tickMs: 10, heartbeatTicks: 10, electionTicks: 30, probeRetryTicks: 10 });
  // The randomized wait is [electionTicks, 2 * electionTicks) ticks: 300 ms to 600 ms.
  assert.equal(2 * t.electionTicks * t.tickMs, 600);
});

test('an election timeout barely above the heartbeat still keeps the base above it', () => {
  const t = raftTiming(1000, 1500);
  assert.ok(t.electionTicks > t.heartbeatTicks);
  assert.throws(() => raftTiming(1000, 1000), /must exceed/);
});

test('an unanswered probe is retried after 200 ms or a heartbeat, whichever is sooner, never within two ticks', () => {
  assert.equal(raftTiming(1000, 3000).probeRetryTicks * 100, 200, 'guide: not a whole 1 s heartbeat');
  assert.equal(raftTiming(100, 600).probeRetryTicks, 10, 'a heartbeat shorter than 200 ms keeps its pace');
  assert.equal(raftTiming(20, 100).probeRetryTicks, 2);
});
