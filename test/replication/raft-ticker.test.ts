// Goal: one RaftTicker ticks every group it holds once per interval, in the order they were
// added, stops ticking a removed group at once (even mid-tick), and stops entirely on stop().
// Method: counting groups on the hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

test('ticks every group once per interval, in order, until removed or stopped', () => {
  const clock = new ManualClock(0);
  const ticker = new RaftTicker(clock, 10);
  const ticks: string[] = [];
  const a = { tick: () => ticks.push(`a@${clock.now()}`) };
  const b = {
    tick: () => {
      ticks.push(`b@${clock.now()}`);
      if (clock.now() === 20) ticker.remove(c);
    },
  };
  const c = { tick: () => ticks.push(`c@${clock.now()}`) };
  ticker.add(a);
  ticker.add(b);
  ticker.add(c);
  assert.throws(() => ticker.add(a), /ticked already/);
  ticker.start();
  assert.throws(() => ticker.start(), /started twice/);
  clock.advance(25);
  assert.deepEqual(ticks, ['a@10', 'b@10', 'c@10', 'a@20', 'b@20']);
  assert.equal(ticker.size, 2);
  ticker.stop();
  clock.advance(100);
  assert.equal(ticks.length, 5);
  assert.equal(clock.pendingTimers(), 0);
  ticker.start();
  clock.advance(10);
  assert.deepEqual(ticks.slice(5), ['a@135', 'b@135']);
  assert.throws(() => new RaftTicker(clock, 0), /positive integer/);
});
