// Goal: the capacity planner reproduces the deployment guide's own examples (10,000 msg/s x 1 KB x 7
// days x RF 3 = 18 TB, 27 TB with the buffer, 40 MB/s = 320 Mbps, 480 Mbps with overhead; 10M
// messages/day = 315 GB for the whole cluster, 105 GB per broker of three), picks the guide's
// topologies by rate and availability, and its numbers obey the formulas for any input.
// Method: planCapacity() on the guide's inputs and on fast-check inputs; readTotals/loadBetween on
// Prometheus text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { capacityInputProblem, planCapacity } from '../../src/capacity/capacity-plan.ts';
import { loadBetween, readTotals } from '../../src/capacity/metrics-rates.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * 1e-9, `${what}: ${actual} != ${expected}`);

test("the guide's capacity planning example: 10,000 msg/s, 1 KB, 7 days, RF 3", () => {
  const plan = planCapacity({ messagesPerSec: 10_000, messageSizeBytes: 1000, retentionDays: 7, replicationFactor: 3 });
  assert.equal(plan.dailyMessages, 864_000_000);
  close(plan.dailyBytes, 864e9, 'daily storage 864 GB');
  close(plan.retainedBytes, 6.048e12, 'total storage ~6 TB');
  close(plan.clusterBytes, 18.144e12, 'cluster storage ~18 TB');
  close(plan.clusterBytesWithBuffer, 27.216e12, 'with buffer ~27 TB');
  close(plan.bandwidthBytesPerSec, 40e6, '40 MB/s');
  close(plan.bandwidthBitsPerSec, 320e6, '320 Mbps');
  close(plan.bandwidthWithOverheadBitsPerSec, 480e6, '480 Mbps with overhead');
  assert.equal(plan.topology, 'medium');
  assert.equal(plan.brokers, 3);
  close(plan.perBrokerBytes, 9.072e12, 'per broker: the cluster figure over three brokers');
});

test("the guide's storage sizing example is the whole cluster's storage: 315 GB, 105 GB per broker", () => {
  const plan = planCapacity({ messagesPerSec: 10_000_000 / 86_400, messageSizeBytes: 1000, retentionDays: 7, replicationFactor: 3 });
  close(plan.clusterBytesWithBuffer, 315e9, '315 GB');
  assert.equal(plan.brokers, 3);
  close(plan.perBrokerBytes, 105e9, '105 GB per broker');
  assert.ok(plan.steps.some((s) => /whole cluster/.test(s.formula)));
});

test("topologies follow the guide's table: small, medium, large, and brokers past 100,000 msg/s", () => {
  const base = { messageSizeBytes: 1000, retentionDays: 1 };
  const small = planCapacity({ ...base, messagesPerSec: 4_000, replicationFactor: 1, availabilityPercent: 99 });
  assert.deepEqual([small.topology, small.brokers, small.hardware.cores], ['small', 1, 2]);
  assert.equal(planCapacity({ ...base, messagesPerSec: 4_000, replicationFactor: 1 }).topology, 'medium', '99.9% needs more than one broker');
  assert.equal(planCapacity({ ...base, messagesPerSec: 60_000, replicationFactor: 3 }).topology, 'large');
  const zones = planCapacity({ ...base, messagesPerSec: 1_000, replicationFactor: 3, availabilityPercent: 99.99 });
  assert.deepEqual([zones.topology, zones.brokers, zones.availabilityZones, zones.hardware.storage], ['large', 5, 3, 'NVMe SSD']);
  const big = planCapacity({ ...base, messagesPerSec: 250_000, replicationFactor: 3 });
  assert.equal(big.brokers, 13, 'ceil(250,000 / 20,000)');
  assert.ok(big.notes.some((n) => /scaled linearly/.test(n)));
  assert.equal(planCapacity({ ...base, messagesPerSec: 100, replicationFactor: 5 }).brokers, 5, 'at least one broker per replica');
  assert.equal(planCapacity({ ...base, messagesPerSec: 100, replicationFactor: 3, latencyP99Ms: 5 }).hardware.storage, 'NVMe SSD');
  const wide = planCapacity({ ...base, messagesPerSec: 40_000, messageSizeBytes: 100_000, replicationFactor: 3 });
  assert.ok(wide.perBrokerBandwidthWithOverheadBitsPerSec <= wide.hardware.networkBitsPerSec, 'brokers added until each one\'s traffic fits its network');
  const parts = planCapacity({ ...base, messagesPerSec: 100, replicationFactor: 3, partitions: 100 });
  assert.deepEqual([parts.replicasPerBroker, parts.leadersPerBroker], [100, 34]);
});

test('bad inputs are refused with the reason', () => {
  assert.match(capacityInputProblem({ messagesPerSec: 0, messageSizeBytes: 1, retentionDays: 1, replicationFactor: 1 })!, /messages per second/);
  assert.match(capacityInputProblem({ messagesPerSec: 1, messageSizeBytes: 1, retentionDays: 1, replicationFactor: 1.5 })!, /replication factor/);
  assert.match(capacityInputProblem({ messagesPerSec: 10, peakMessagesPerSec: 5, messageSizeBytes: 1, retentionDays: 1, replicationFactor: 1 })!, /peak/);
  assert.match(capacityInputProblem({ messagesPerSec: 1, messageSizeBytes: 1, retentionDays: 1, replicationFactor: 1, availabilityPercent: 100 })!, /availability/);
  assert.throws(() => planCapacity({ messagesPerSec: -1, messageSizeBytes: 1, retentionDays: 1, replicationFactor: 1 }), RangeError);
});

test('for any load the numbers obey the formulas', () => {
  const load = fc.record({
    messagesPerSec: fc.double({ min: 0.01, max: 5e6, noNaN: true }),
    peakFactor: fc.double({ min: 1, max: 10, noNaN: true }),
    messageSizeBytes: fc.integer({ min: 1, max: 10_000_000 }),
    retentionDays: fc.double({ min: 0.01, max: 3650, noNaN: true }),
    replicationFactor: fc.integer({ min: 1, max: 7 }),
    partitions: fc.integer({ min: 1, max: 100_000 }),
    availabilityPercent: fc.constantFrom(90, 99, 99.9, 99.95, 99.99, 99.999),
  });
  fc.assert(
    fc.property(load, ({ peakFactor, ...l }) => {
      const input = { ...l, peakMessagesPerSec: l.messagesPerSec * peakFactor };
      const p = planCapacity(input);
      close(p.clusterBytesWithBuffer, l.messagesPerSec * 86_400 * l.messageSizeBytes * l.retentionDays * l.replicationFactor * 1.5, 'storage formula');
      close(p.perBrokerBytes * p.brokers, p.clusterBytesWithBuffer, 'per broker');
      close(p.bandwidthWithOverheadBitsPerSec, input.peakMessagesPerSec * l.messageSizeBytes * (1 + l.replicationFactor) * 8 * 1.5, 'bandwidth formula');
      assert.ok(p.brokers >= l.replicationFactor && Number.isInteger(p.brokers));
      assert.ok(p.perBrokerBandwidthWithOverheadBitsPerSec <= p.hardware.networkBitsPerSec * (1 + 1e-9));
      if (l.availabilityPercent >= 99.99) assert.ok(p.brokers >= 5 && p.availabilityZones === 3);
      const more = planCapacity({ ...input, messagesPerSec: l.messagesPerSec * 2, peakMessagesPerSec: input.peakMessagesPerSec * 2 });
      assert.ok(more.brokers >= p.brokers && more.clusterBytesWithBuffer > p.clusterBytesWithBuffer, 'more load never needs less');
    }),
    { numRuns: 2_000 },
  );
});

test('rate and size from two scrapes of /metrics', () => {
  const text = (messages: number, bytesA: number, bytesB: number) =>
    `# HELP streambus_messages_total Records appended\n# TYPE streambus_messages_total counter\nstreambus_messages_total ${messages}\n` +
    `streambus_topic_bytes_in_total{topic="a"} ${bytesA}\nstreambus_topic_bytes_in_total{topic="b"} ${bytesB}\nstreambus_other 5\n`;
  const before = [readTotals(text(100, 1000, 0), 'b1'), readTotals(text(0, 0, 0), 'b2')];
  const after = [readTotals(text(1100, 300_000, 200_000), 'b1'), readTotals(text(1000, 500_000, 0), 'b2')];
  const load = loadBetween(before, after, 10);
  assert.equal(load.messagesPerSec, 200);
  assert.equal(load.messageSizeBytes, 999_000 / 2000);
  assert.throws(() => loadBetween(before, before, 10), /no message was produced/);
  assert.throws(() => loadBetween(after, before, 10), /restarted/);
  assert.throws(() => readTotals('up 1\n', 'x'), /has no streambus_messages_total/);
});
