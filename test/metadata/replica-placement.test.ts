// Goal: new partitions' replicas are distinct brokers spread over as many racks as the replication factor
// allows, replica and preferred-leader counts stay within one across brokers as topics are created one
// after another, and the same inputs always give the same placement.
// Method: hand-picked layouts (Kafka's error message, three availability zones, a broker that joined late)
// plus fast-check properties over random broker sets, racks and sequences of topics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { placeReplicas, type BrokerLoad, type PlacementBroker } from '../../src/metadata/replica-placement.ts';

/** Places one topic and returns its assignments, failing the test on an error. */
function place(brokers: PlacementBroker[], load: Map<number, BrokerLoad>, partitions: number, replicationFactor: number, startIndex = 0): number[][] {
  const placement = placeReplicas({ brokers, load, partitions, replicationFactor, startIndex });
  assert.equal(placement.error, null, placement.error === null ? '' : placement.message);
  return placement.error === null ? placement.assignments : [];
}

/** Counts the assignments into `load`, as existing topics for the next placement. */
function addLoad(load: Map<number, BrokerLoad>, assignments: number[][]): void {
  const of = (id: number) => load.get(id) ?? { replicas: 0, leaders: 0 };
  for (const replicas of assignments) {
    load.set(replicas[0]!, { ...of(replicas[0]!), leaders: of(replicas[0]!).leaders + 1 });
    for (const id of replicas) load.set(id, { ...of(id), replicas: of(id).replicas + 1 });
  }
}

const spread = (values: number[]) => Math.max(...values) - Math.min(...values);
const counts = (brokers: PlacementBroker[], load: Map<number, BrokerLoad>, key: keyof BrokerLoad) => brokers.map((b) => load.get(b.id)?.[key] ?? 0);
const rackOf = (brokers: PlacementBroker[]) => new Map(brokers.map((b) => [b.id, b.rack]));

test('a replication factor above the broker count is refused with Kafka\'s message', () => {
  const brokers = [{ id: 1, rack: null }, { id: 2, rack: null }];
  assert.deepEqual(placeReplicas({ brokers, load: new Map(), partitions: 1, replicationFactor: 3, startIndex: 0 }), {
    error: 'INVALID_REPLICATION_FACTOR',
    message: 'Replication factor: 3 larger than available brokers: 2.',
  });
  assert.equal(placeReplicas({ brokers, load: new Map(), partitions: 1, replicationFactor: 0, startIndex: 0 }).error, 'INVALID_REPLICATION_FACTOR');
  assert.deepEqual(place(brokers, new Map(), 0, 2), []);
});

test('three availability zones: every partition in all three, lists alternating zones, counts even', () => {
  const brokers = [1, 2, 3, 4, 5, 6].map((id) => ({ id, rack: `az-${'abc'[(id - 1) % 3]}` }));
  const load = new Map<number, BrokerLoad>();
  const assignments = place(brokers, load, 6, 3);
  const racks = rackOf(brokers);
  for (const replicas of assignments) assert.equal(new Set(replicas.map((id) => racks.get(id))).size, 3, `${replicas} misses a zone`);
  addLoad(load, assignments);
  assert.deepEqual(counts(brokers, load, 'replicas'), [3, 3, 3, 3, 3, 3]);
  assert.deepEqual(counts(brokers, load, 'leaders'), [1, 1, 1, 1, 1, 1]);
  // Replication factor 2 over three zones: the two replicas are always in different zones.
  for (const replicas of place(brokers, load, 9, 2)) assert.notEqual(racks.get(replicas[0]!), racks.get(replicas[1]!));
});

test('uneven zones: spreading over zones wins over even counts, leaders stay even', () => {
  const brokers = [
    { id: 1, rack: 'az-a' },
    { id: 2, rack: 'az-a' },
    { id: 3, rack: 'az-b' },
    { id: 4, rack: 'az-b' },
    { id: 5, rack: 'az-c' },
  ];
  const load = new Map<number, BrokerLoad>();
  const assignments = place(brokers, load, 10, 3);
  for (const replicas of assignments) assert.ok(replicas.includes(5), `${replicas} misses the only broker of az-c`);
  addLoad(load, assignments);
  assert.deepEqual(counts(brokers, load, 'replicas'), [5, 5, 5, 5, 10]);
  assert.deepEqual(counts(brokers, load, 'leaders'), [2, 2, 2, 2, 2]);
});

test('a broker that joined late takes new replicas and leaderships until it catches up', () => {
  const brokers = [1, 2, 3, 4].map((id) => ({ id, rack: null }));
  const load = new Map<number, BrokerLoad>([1, 2, 3].map((id) => [id, { replicas: 2, leaders: 1 }]));
  const assignments = place(brokers, load, 2, 2);
  assert.equal(assignments[0]![0], 4);
  assert.ok(assignments.every((replicas) => replicas.includes(4)), JSON.stringify(assignments));
  addLoad(load, assignments);
  assert.deepEqual(counts(brokers, load, 'replicas').sort(), [2, 2, 3, 3]);
  assert.ok(spread(counts(brokers, load, 'leaders')) <= 1);
});

test('the start index rotates the first leader; broker order in the request does not matter', () => {
  const brokers = [10, 20, 30].map((id) => ({ id, rack: null }));
  assert.equal(place(brokers, new Map(), 1, 2, 0)[0]![0], 10);
  assert.equal(place(brokers, new Map(), 1, 2, 1)[0]![0], 20);
  assert.equal(place(brokers, new Map(), 1, 2, 5)[0]![0], 30);
  assert.deepEqual(place([...brokers].reverse(), new Map(), 7, 2, 4), place(brokers, new Map(), 7, 2, 4));
});

// --- properties over random clusters and sequences of topics ---

const RACK_NAMES = ['az-a', 'az-b', 'az-c', 'az-d'];

/** Any broker set: distinct ids, each broker in one of four racks or in none. */
const anyBrokers = fc
  .uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 9 })
  .chain((ids) =>
    fc
      .array(fc.option(fc.constantFrom(...RACK_NAMES), { nil: null }), { minLength: ids.length, maxLength: ids.length })
      .map((racks) => ids.map((id, i) => ({ id, rack: racks[i]! }))),
  );

/** Racks with equal broker counts (one rack when unnamed: all brokers without a rack). */
const balancedBrokers = fc
  .record({ racks: fc.integer({ min: 1, max: 4 }), perRack: fc.integer({ min: 1, max: 3 }), named: fc.boolean() })
  .chain(({ racks, perRack, named }) =>
    fc
      .uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: racks * perRack, maxLength: racks * perRack })
      .map((ids) => ids.map((id, i) => ({ id, rack: named ? RACK_NAMES[i % racks]! : null }))),
  );

/** Topics created one after another; the factor is reduced modulo the broker count when placed. */
const topicSequence = fc.array(
  fc.record({ partitions: fc.integer({ min: 1, max: 8 }), factor: fc.integer({ min: 1, max: 12 }), startIndex: fc.nat(1000) }),
  { minLength: 1, maxLength: 12 },
);

/** Places the topics in order, checking `each` after every topic with the load so far. */
function createInSequence(
  brokers: PlacementBroker[],
  topics: { partitions: number; factor: number; startIndex: number }[],
  each: (assignments: number[][], replicationFactor: number, load: Map<number, BrokerLoad>) => void,
): void {
  const load = new Map<number, BrokerLoad>();
  for (const t of topics) {
    const replicationFactor = 1 + ((t.factor - 1) % brokers.length);
    const assignments = place(brokers, load, t.partitions, replicationFactor, t.startIndex);
    addLoad(load, assignments);
    each(assignments, replicationFactor, load);
  }
}

test('property: distinct registered replicas spanning min(factor, racks) racks; leaders within one', () => {
  fc.assert(
    fc.property(anyBrokers, topicSequence, (brokers, topics) => {
      const racks = rackOf(brokers);
      const rackCount = new Set(racks.values()).size;
      createInSequence(brokers, topics, (assignments, replicationFactor, load) => {
        for (const replicas of assignments) {
          assert.equal(replicas.length, replicationFactor);
          assert.equal(new Set(replicas).size, replicationFactor, `${replicas} repeats a broker`);
          assert.ok(replicas.every((id) => racks.has(id)), `${replicas} names an unknown broker`);
          assert.equal(new Set(replicas.map((id) => racks.get(id))).size, Math.min(replicationFactor, rackCount), `${replicas} spans too few racks`);
        }
        assert.ok(spread(counts(brokers, load, 'leaders')) <= 1, 'leader counts differ by more than one');
        for (const rack of new Set(racks.values())) {
          const members = brokers.filter((b) => b.rack === rack);
          assert.ok(spread(counts(members, load, 'replicas')) <= 1, `replica counts in rack ${rack} differ by more than one`);
        }
      });
    }),
    { numRuns: 200 },
  );
});

test('property: with equal racks (or none), replica and leader counts stay within one across the cluster', () => {
  fc.assert(
    fc.property(balancedBrokers, topicSequence, (brokers, topics) => {
      createInSequence(brokers, topics, (_assignments, _factor, load) => {
        assert.ok(spread(counts(brokers, load, 'replicas')) <= 1, `replica counts ${counts(brokers, load, 'replicas')}`);
        assert.ok(spread(counts(brokers, load, 'leaders')) <= 1, `leader counts ${counts(brokers, load, 'leaders')}`);
      });
    }),
    { numRuns: 300 },
  );
});

test('property: the same inputs, in any broker order, give the same placement', () => {
  fc.assert(
    fc.property(anyBrokers, topicSequence, fc.nat(), (brokers, topics, seed) => {
      const shuffled = [...brokers].sort((a, b) => ((a.id * 7919 + seed) % 1009) - ((b.id * 7919 + seed) % 1009));
      const first: number[][][] = [];
      createInSequence(brokers, topics, (assignments) => first.push(assignments));
      const again: number[][][] = [];
      createInSequence(shuffled, topics, (assignments) => again.push(assignments));
      assert.deepEqual(again, first);
    }),
  );
});
