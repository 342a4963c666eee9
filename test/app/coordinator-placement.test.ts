// Goal: the one placement of partition coordinators serves a lone broker as it serves a cluster: on a
// lone broker, start-up creates the topic and loads a coordinator on every partition before it
// resolves, and fails (naming the partition and why, with the checks stopped) when one cannot be
// loaded; check() resolves only once a check started after the call has run, and calls made while a
// check runs share one check after it.
// Method: a CoordinatorPlacement over fakes of the metadata, the topic service and the partitions,
// with coordinators whose load() the test resolves or fails, and a hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinatorPlacement } from '../../src/app/coordinator-placement.ts';
import { PartitionCoordinators } from '../../src/groups/partition-coordinators.ts';
import type { MetadataService } from '../../src/replication/metadata-service.ts';
import type { Partition } from '../../src/replication/partition.ts';
import type { PartitionManager } from '../../src/replication/partition-manager.ts';
import type { TopicService } from '../../src/broker/topic-service.ts';
import { pino } from 'pino';
import { ManualClock } from '../helpers/manual-clock.ts';

class FakeCoordinator {
  closed = false;
  constructor(
    readonly partition: number,
    private readonly fail: string | null,
  ) {}
  async load(): Promise<object> {
    if (this.fail !== null) throw new Error(this.fail);
    return { partition: this.partition };
  }
  close(): void {
    this.closed = true;
  }
}

interface Setup {
  readonly placement: CoordinatorPlacement<FakeCoordinator>;
  readonly slots: PartitionCoordinators<FakeCoordinator>;
  readonly clock: ManualClock;
  /** Topic creations and coordinator loads, in order. */
  readonly events: string[];
  readonly created: FakeCoordinator[];
}

/**
 * A placement for topic `t` of `count` partitions (absent until created). `offline`: partitions with no
 * replica here; `failing`: partitions whose coordinator fails to load.
 */
function setup(count: number, offline: number[] = [], failing: number[] = []): Setup {
  const clock = new ManualClock();
  const events: string[] = [];
  const created: FakeCoordinator[] = [];
  let partitions: number | null = null;
  const metadata = { state: { topic: (name: string) => (name === 't' && partitions !== null ? { partitions } : undefined) } } as unknown as MetadataService;
  const topics = {
    create: async (name: string, n: number) => {
      events.push(`create ${name} ${n}`);
      partitions = n;
      return { error: null };
    },
  } as unknown as TopicService;
  const manager = {
    get: (_topic: string, index: number) => (offline.includes(index) ? undefined : ({ index, writable: true, leaderEpoch: 0 } as unknown as Partition)),
    offlineReason: (_topic: string, index: number) => (offline.includes(index) ? `disk of t-${index} failed` : null),
  } as unknown as PartitionManager;
  const slots = new PartitionCoordinators<FakeCoordinator>(() => partitions ?? 0, new FakeCoordinator(-1, null));
  const placement = new CoordinatorPlacement<FakeCoordinator>({
    what: 'test coordinators',
    topic: 't',
    partitionCount: count,
    replicationFactor: 1,
    brokers: () => 1,
    eager: true,
    metadata: () => metadata,
    topics: () => topics,
    partitions: manager,
    slots,
    coordinatorOn: (p) => {
      events.push(`load ${p.index}`);
      const coordinator = new FakeCoordinator(p.index, failing.includes(p.index) ? 'replay failed' : null);
      created.push(coordinator);
      return coordinator;
    },
    clock,
    log: pino({ level: 'silent' }),
  });
  return { placement, slots, clock, events, created };
}

test('alone: start-up creates the topic and has every partition loaded before it resolves', async () => {
  const { placement, slots, events } = setup(3);
  await placement.startAlone();
  assert.deepEqual(events, ['create t 3', 'load 0', 'load 1', 'load 2']);
  assert.deepEqual(slots.coordinated, [0, 1, 2]);
  await placement.check();
  assert.deepEqual(events.length, 4, 'a later check loads nothing again');
  placement.stop();
});

test('alone: an offline partition or a failed load fails start-up, names the partition and stops the checks', async () => {
  const { placement, clock, events, created } = setup(3, [1], [2]);
  await assert.rejects(placement.startAlone(), (err: Error) => {
    assert.match(err.message, /t-1: disk of t-1 failed/);
    assert.match(err.message, /t-2: replay failed/);
    return true;
  });
  assert.deepEqual(
    created.map((c) => [c.partition, c.closed]),
    [
      [0, true],
      [2, true],
    ],
    'the one that loaded is closed too',
  );
  const before = events.length;
  clock.advance(10_000);
  await placement.check();
  assert.equal(events.length, before, 'stopped: no more checks');
});

test('check() during a check resolves after a check that started later; such calls share one', async () => {
  const { placement, slots, events } = setup(1);
  const first = placement.check();
  const second = placement.check();
  const third = placement.check();
  assert.equal(second, third, 'one queued check for both calls');
  await first;
  // The first check created the topic and loaded partition 0 in the same pass.
  assert.deepEqual(events, ['create t 1', 'load 0']);
  await second;
  assert.deepEqual(slots.coordinated, [0]);
  assert.deepEqual(events, ['create t 1', 'load 0'], 'the queued check found nothing to do');
  placement.stop();
});
