// Three in-process brokers replicating one partition, for the PartitionReplica tests: per broker a
// MultiRaft host on a FakeNetwork channel, a RaftTicker on a hand-driven clock, and a real segment
// Log in its own temp folder with a Partition over it, attached through PartitionReplicas (the
// broker's own wiring) to the partition's Raft group. The test decides when messages move and when
// time passes; `pump` runs the cluster until a condition holds, within an iteration budget. Storage
// writes are real (asynchronous), so each round also yields to the event loop. Not a test file itself.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildRecordBatch, splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';
import type { ClusterState, TopicRecord } from '../../src/metadata/cluster-state.ts';
import type { MetadataService } from '../../src/replication/metadata-service.ts';
import { MultiRaft } from '../../src/replication/multi-raft.ts';
import { Partition, type AppendResult, type ProducerFields } from '../../src/replication/partition.ts';
import type { PartitionReplica } from '../../src/replication/partition-replica.ts';
import { PartitionReplicas } from '../../src/replication/partition-replicas.ts';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import { Log } from '../../src/storage/log.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { tempDir } from '../storage/helpers.ts';
import { FakeNetwork, type FakeChannel, type Wire } from './multi-raft-fixture.ts';
import { partitionTestDisk, smallLog } from './partition-raft-log-helpers.ts';

export const IDS = [1, 2, 3] as const;
export const TOPIC = 'orders';
export const GROUP_ID = 7;
const TICK_MS = 10;
/**
 * Storage runs in real time while the clock only moves with the pump, so a slow disk (CI under load)
 * stretches the simulated time a write takes: 30 ticks of election timeout keep a leader whose write
 * is slow from being voted out (with 10, a leader lost its term mid-test under load).
 */
const SETTINGS = { electionTicks: 30, heartbeatTicks: 1, preVote: true, checkQuorum: true };
/** Rounds of `pump` at most; each round moves every queued message and yields to the storage. */
const PUMP_ROUNDS_MAX = 3000;
/** A round ticks every broker once per this many rounds, so storage writes finish between ticks. */
const ROUNDS_PER_TICK = 4;

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The metadata PartitionReplicas.attach reads: one topic of one partition on brokers 1, 2, 3. */
function fakeMetadata(): MetadataService {
  const topic: TopicRecord = {
    name: TOPIC,
    topicId: '5c3b1a2e-0d4f-4e6a-9b8c-7d6e5f4a3b2c',
    partitions: 1,
    replicationFactor: 3,
    assignments: [[...IDS]],
    raftGroups: [GROUP_ID],
    configs: {},
    createdAtMs: 0,
  };
  const state = { topic: (name: string) => (name === TOPIC ? topic : undefined), broker: () => undefined } as unknown as ClusterState;
  return {
    state,
    submit: () => Promise.reject(new Error('not used')),
    onChange: () => undefined,
    nextProducerId: () => Promise.reject(new Error('not used')),
  };
}

export class Broker {
  log!: Log;
  partition!: Partition;
  readonly ticker: RaftTicker;
  readonly host: MultiRaft;
  readonly replicas: PartitionReplicas;
  /** Every leadership report of its replica (onLeadership), with whether the replica was writable when told. */
  readonly leaderships: { leader: number; term: number; writable: boolean }[] = [];
  up = false;

  constructor(
    readonly id: number,
    readonly dir: string,
    readonly channel: FakeChannel,
    readonly clock: ManualClock,
    network: FakeNetwork,
  ) {
    this.ticker = new RaftTicker(clock, TICK_MS);
    this.host = new MultiRaft({ brokerId: id, channel, ticker: this.ticker, schedule: network.schedule });
    this.replicas = new PartitionReplicas({
      brokerId: id,
      metadata: fakeMetadata(),
      multiRaft: this.host,
      disk: partitionTestDisk,
      settings: SETTINGS,
      channelMaxBytes: channel.maxMessageBytes,
      now: () => clock.now(),
      syncEntries: true,
      onLeadership: (replica, { leader, term }) => this.leaderships.push({ leader, term, writable: replica.writable }),
      log: silent,
    });
  }

  /** Opens the segment log and attaches the partition to its group (again after a stop). */
  async start(): Promise<void> {
    assert.equal(this.up, false, `broker ${this.id} is running already`);
    this.log = await Log.open(this.dir, smallLog, partitionTestDisk, this.clock);
    this.partition = new Partition(TOPIC, 0, this.log, { strictDurability: false, leaderEpoch: 0 });
    await this.replicas.attach(this.partition);
    this.up = true;
  }

  /**
   * Detaches the group and closes the log; `clean: false` skips the clean-shutdown work, as a crash
   * would. A clean stop writes the transactions checkpoint as the partition manager does.
   */
  async stop(clean: boolean): Promise<void> {
    if (!this.up) return;
    this.up = false;
    this.partition.wakeAll();
    await this.replicas.detach(this.partition);
    if (clean) await this.partition.saveTransactions();
    await this.log.close({ clean });
  }

  get replica(): PartitionReplica {
    const replica = this.replicas.replicas()[0];
    assert.ok(replica !== undefined, `broker ${this.id} hosts no replica`);
    return replica;
  }

  /** Every batch of the segment log as `baseOffset:hex`, read back with Log.read and split into batches. */
  async logBatches(): Promise<string[]> {
    const out: string[] = [];
    let offset = this.log.logStartOffset;
    for (let reads = 0; offset < this.log.endOffset; reads++) {
      assert.ok(reads < 1000, 'reading the log did not end');
      const read = await this.log.read(offset, 1 << 20);
      for (const chunk of read.buffers) {
        for (const { start, end } of splitBatches(chunk)) out.push(`${chunk.readBigInt64BE(start)}:${chunk.subarray(start, end).toString('hex')}`);
      }
      offset = read.nextOffset;
    }
    return out;
  }
}

export class Cluster {
  readonly network = new FakeNetwork();
  readonly clock = new ManualClock();
  readonly brokers = new Map<number, Broker>();
  /** Messages for which this returns true are lost on delivery. */
  drop: (w: Wire) => boolean = () => false;
  private readonly root = tempDir('sb-replica-');

  static async start(): Promise<Cluster> {
    const cluster = new Cluster();
    for (const id of IDS) {
      const broker = new Broker(id, join(cluster.root.path, `broker-${id}`), cluster.network.channel(id), cluster.clock, cluster.network);
      cluster.brokers.set(id, broker);
    }
    for (const broker of cluster.brokers.values()) {
      await broker.start();
      broker.ticker.start();
    }
    return cluster;
  }

  broker(id: number): Broker {
    return this.brokers.get(id)!;
  }

  /** The running broker whose replica is writable in the highest term, if any. */
  writableLeader(): Broker | undefined {
    let best: Broker | undefined;
    for (const b of this.brokers.values()) {
      if (b.up && b.replica.writable && (best === undefined || b.replica.leaderEpoch > best.replica.leaderEpoch)) best = b;
    }
    return best;
  }

  /** Isolates broker `id`: everything it sends or is sent is lost until heal(). */
  isolate(id: number): void {
    this.drop = (w) => w.from === id || w.to === id;
  }

  heal(): void {
    this.drop = () => false;
  }

  /**
   * Runs the cluster until `done` holds: each round flushes the hosts, delivers what is queued
   * (except what `drop` loses), yields to the storage, and every few rounds ticks every broker.
   * `check` runs after every round (an invariant). Fails after PUMP_ROUNDS_MAX rounds.
   */
  async pump(done: () => boolean, what: string, options: { ticks?: boolean; check?: () => void } = {}): Promise<void> {
    const ticks = options.ticks ?? true;
    for (let round = 0; !done(); round++) {
      assert.ok(round < PUMP_ROUNDS_MAX, `gave up waiting for ${what}`);
      this.network.flush();
      this.network.deliver((w) => this.drop(w) || !this.brokers.get(w.to)!.up || !this.brokers.get(w.from)!.up);
      await yieldToStorage();
      if (ticks && round % ROUNDS_PER_TICK === ROUNDS_PER_TICK - 1) this.clock.advance(TICK_MS);
      options.check?.();
    }
  }

  /** Waits (no ticks, no deliveries) until `done` holds: only the hosts' flushes and the storage run. */
  async await(done: () => boolean, what: string): Promise<void> {
    for (let round = 0; !done(); round++) {
      assert.ok(round < PUMP_ROUNDS_MAX, `gave up waiting for ${what}`);
      this.network.flush();
      await yieldToStorage();
    }
  }

  async stop(): Promise<void> {
    for (const b of this.brokers.values()) {
      b.ticker.stop();
      await b.stop(true);
      b.host.stop();
    }
    this.root.remove();
  }
}

/** Starts the cluster and runs it until a leader takes writes and every replica applied its no-op. */
export async function startCluster(): Promise<{ cluster: Cluster; leader: Broker }> {
  const cluster = await Cluster.start();
  await cluster.pump(() => cluster.writableLeader() !== undefined, 'a writable leader');
  await settle(cluster);
  return { cluster, leader: cluster.writableLeader()! };
}

/** Runs until every running replica applied everything the leader committed and nothing is in flight. */
export async function settle(cluster: Cluster): Promise<void> {
  const leader = () => cluster.writableLeader();
  await cluster.pump(() => {
    const l = leader();
    if (l === undefined || cluster.network.queue.length > 0) return false;
    const commit = l.replica.driver.raft.commitIndex;
    return [...cluster.brokers.values()].every((b) => !b.up || (b.replica.driver.raft.appliedIndex === commit && b.replica.highWatermark === l.log.endOffset));
  }, 'every replica to apply the leader\'s commit');
}

/** One turn of the event loop plus a millisecond: enough for a buffered write or an fsync to finish. */
function yieldToStorage(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/** A plain batch of `values` (offsets and epoch are stamped by the leader). */
export function plainBatch(values: readonly string[]): Buffer {
  return buildRecordBatch(
    values.map((v) => ({ value: Buffer.from(v) })),
    { baseTimestamp: 1_700_000_000_000n },
  );
}

/** An idempotent batch of `count` records of producer `producerId` from sequence `sequence`. */
export function idempotentBatch(producerId: bigint, sequence: number, count: number): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: Buffer.from(`p${producerId}-s${sequence + i}`) }));
  return buildRecordBatch(records, { producerId, producerEpoch: 0, baseSequence: sequence, baseTimestamp: 1_700_000_000_000n });
}

/** The idempotence fields of a batch's header, as the produce handler reads them. */
export function producerFields(batch: Buffer): ProducerFields {
  return {
    producerId: batch.readBigInt64BE(43),
    producerEpoch: batch.readInt16BE(51),
    baseSequence: batch.readInt32BE(53),
    lastOffsetDelta: batch.readInt32BE(23),
  };
}

/** Appends a copy of `batch` (the leader stamps what it is given) on `broker`'s partition. */
export function append(broker: Broker, batch: Buffer, idempotent = false): Promise<AppendResult> {
  return broker.partition.append(Buffer.from(batch), idempotent ? producerFields(batch) : null, broker.clock.now());
}

/** Tracks a promise's settlement without letting a rejection go unhandled. */
export function track(promise: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error: unknown } = { state: 'pending', error: undefined };
  promise.then(
    () => (t.state = 'resolved'),
    (error: unknown) => {
      t.state = 'rejected';
      t.error = error;
    },
  );
  return t;
}
