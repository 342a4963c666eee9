// Goal: the Raft throughput benchmark's harness keeps working and measures what it claims: every
// proposed entry is committed and applied on all three nodes, through compaction. (Speed is
// measured by bench/raft/throughput.ts into bench/results/raft.json, never asserted here.)
// Method: run the harness with a tiny workload and check the counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureThroughput } from '../../bench/raft/cluster-driver.ts';

test('the throughput harness commits and applies every entry on every node', () => {
  const result = measureThroughput({
    entries: 5000,
    entryBytes: 1024,
    proposalBatch: 64,
    proposalsPerRound: 4,
    compactEvery: 700,
    maxMessageBytes: 64 * 1024,
    now: () => 0,
    cpuNow: () => 0,
  });
  assert.ok(result.entries >= 5000);
  // Each node also applied the leader's no-op entry.
  assert.deepEqual(result.appliedPerNode, [result.entries + 1, result.entries + 1, result.entries + 1]);
  assert.ok(result.messages > 0 && result.readies > 0);
});
