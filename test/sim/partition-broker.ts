/**
 * Goal: one simulated broker of the partition simulation, built from the production classes as a
 * broker of a cluster builds them: per hosted partition a segment Log (src/storage/log.ts) over the
 * broker's MemDisk, a Partition, and PartitionReplicas.attach() turning it into a replica of its Raft
 * group (PartitionRaftLog inside the segment log, PartitionReplica as writer and state machine), all
 * groups in one MultiRaft host over a simulated PeerChannel, ticked by one RaftTicker.
 * Method: everything volatile belongs to one incarnation (its clock, channel, host and objects). A
 * crash kills the incarnation: its timers never fire, its channel neither sends nor receives, its
 * disk operations never complete; with power loss the MemDisk also tears what was not durable. A
 * restart opens everything again from the disk, through the production recovery (Log, then
 * PartitionRaftLog). The host applies through ObservedMultiRaft, which shows every committed entry
 * to the checker before the replica applies it.
 */
import { join } from 'node:path';
import type { RaftDriver, RaftSettings } from '../../src/replication/raft-driver.ts';
import type { Entry, Snapshot } from '../../src/raft/index.ts';
import type { ClusterState } from '../../src/metadata/cluster-state.ts';
import type { MetadataService } from '../../src/replication/metadata-service.ts';
import type { MetadataCommand, MetadataResult } from '../../src/metadata/cluster-state.ts';
import { replicaSet } from '../../src/metadata/reassignment.ts';
import { PartitionMover } from '../../src/replication/partition-moves.ts';
import { MultiRaft, type GroupOptions } from '../../src/replication/multi-raft.ts';
import type { PartitionReplica } from '../../src/replication/partition-replica.ts';
import { PartitionReplicas } from '../../src/replication/partition-replicas.ts';
import { Partition } from '../../src/replication/partition.ts';
import type { RaftStateMachine } from '../../src/replication/raft-state-machine.ts';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import { Log } from '../../src/storage/log.ts';
import type { LogOptions } from '../../src/storage/log-options.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import { IncarnationClock } from './controller-broker.ts';
import type { MemDisk } from './mem-disk.ts';
import type { Prng } from './prng.ts';
import { SimPeerChannel, type ChannelEnv } from './sim-peer-channel.ts';
import { TICK_MS } from './sim-node.ts';
import { ByteRateBudget } from '../../src/replication/send-budget.ts';
import { TXN_STATE_TOPIC } from '../../src/metadata/topic-name.ts';
import type { TxnRouter } from '../../src/transactions/txn-router.ts';
import { SimCoordinators, type SimCoordinatorEnv } from './partition-coordinator.ts';

export interface PartitionBrokerEnv extends ChannelEnv {
  readonly clock: ManualClock;
  /** The controller's state now (the simulation applies commands to a ClusterState as the controller would). */
  readonly metadata: () => ClusterState;
  readonly settings: RaftSettings;
  readonly logOptions: Partial<LogOptions>;
  readonly channelMaxBytes: number;
  /** How often each partition's retention runs (PartitionReplicas.retain, as log maintenance does); 0 never. */
  readonly retentionEveryMs: number;
  /** cluster.learnerRecoveryRate of every broker (bytes per simulated second); 0 no limit. */
  readonly learnerBytesPerSecond: number;
  /** raft.quiesce: idle groups stop ticking after this many ticks (as the broker sets it); 0 never. */
  readonly quiesceAfterTicks: number;
  log(line: string): void;
  /** A broken invariant of the production code (an error it logged, a failed start). */
  fail(invariant: string, message: string): void;
  /** Every committed entry of a partition, on `broker`, before its replica applies it. */
  applying(broker: number, partition: string, entries: readonly Entry[]): void;
  /** A replica restores a snapshot (at start, or a leader's after retention). */
  restoring(broker: number, partition: string, snapshot: Snapshot): void;
  /** A replica just attached: where deliberate bugs are planted (partition-bugs.ts). */
  attached(broker: number, replica: PartitionReplica): void;
  /** A command for the controller (a partition leader reporting a finished move). */
  submit(cmd: MetadataCommand): Promise<MetadataResult>;
  /** How often a broker's partition mover looks at the partitions it leads (as the ISR sample does). */
  readonly moveEveryMs: number;
  /** With transaction coordinators (on the leader of `__transaction_state`), what they need of the simulation. */
  readonly coordinators?: SimCoordinatorEnv;
}

/** Shows every committed entry to the checker before the state machine applies it. */
class ObservedMachine implements RaftStateMachine {
  constructor(
    private readonly inner: RaftStateMachine,
    private readonly onApply: (entries: readonly Entry[]) => void,
    private readonly onRestore: (snapshot: Snapshot) => void,
  ) {}

  apply(entries: readonly Entry[]): void {
    this.onApply(entries);
    this.inner.apply(entries);
  }

  snapshot(): Uint8Array {
    return this.inner.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.onRestore(snapshot);
    this.inner.restore(snapshot);
  }
}

class ObservedMultiRaft extends MultiRaft {
  observe: (groupId: number, entries: readonly Entry[]) => void = () => undefined;
  observeRestore: (groupId: number, snapshot: Snapshot) => void = () => undefined;

  override addGroup(groupId: number, options: GroupOptions): RaftDriver {
    const machine = new ObservedMachine(
      options.stateMachine,
      (entries) => this.observe(groupId, entries),
      (snapshot) => this.observeRestore(groupId, snapshot),
    );
    return super.addGroup(groupId, { ...options, stateMachine: machine });
  }
}

export function partitionKey(topic: string, index: number): string {
  return `${topic}-${index}`;
}

/** One incarnation's objects. */
interface Life {
  readonly number: number;
  readonly clock: IncarnationClock;
  readonly channel: SimPeerChannel;
  readonly ticker: RaftTicker;
  readonly multiRaft: ObservedMultiRaft;
  readonly replicas: PartitionReplicas;
  readonly disk: ReturnType<MemDisk['mount']>;
  readonly partitions: Map<string, Partition>;
  /** The transaction coordinators' placement and router (coordinator mode), or null. */
  readonly coordinators: SimCoordinators | null;
  /** The reconcile runs, one after the other. */
  hosting: Promise<void>;
}

export class PartitionBroker {
  incarnation = 0;
  /** Every hosted partition attached: the broker serves. */
  ready = false;
  private life: Life | null = null;
  /** Quiesce notices the earlier incarnations sent. */
  private earlierQuiesceNotices = 0;
  /** Replicas of a partition this broker removed (moved away), by key: a new copy is a new replica. */
  private readonly removals = new Map<string, number>();

  /** Set by replaceDisk until every replica here has caught up (see `refilling`). */
  private refillPending = false;

  constructor(
    readonly id: number,
    public disk: MemDisk,
    private readonly random: Prng,
    private readonly env: PartitionBrokerEnv,
  ) {}

  get up(): boolean {
    return this.life !== null;
  }

  /** The partitions this broker holds replicas of (a move's target and leaving replicas included), by key. */
  hosted(): { key: string; topic: string; index: number; groupId: number }[] {
    const out: { key: string; topic: string; index: number; groupId: number }[] = [];
    for (const topic of this.env.metadata().topics()) {
      for (let index = 0; index < topic.partitions; index++) {
        if (replicaSet(topic, index).includes(this.id)) out.push({ key: partitionKey(topic.name, index), topic: topic.name, index, groupId: topic.raftGroups[index]! });
      }
    }
    return out;
  }

  /**
   * What the checker calls this broker's replica of `key`: its incarnation, and how many copies of
   * the partition it removed before (a copy made after a removal starts empty, a new replica).
   */
  replicaIncarnation(key: string): number {
    return this.incarnation * 1000 + (this.removals.get(key) ?? 0);
  }

  partition(key: string): Partition | undefined {
    return this.ready ? this.life?.partitions.get(key) : undefined;
  }

  /** Where this broker routes transaction coordinator requests, once it serves (coordinator mode). */
  txnRouter(): TxnRouter | undefined {
    return this.ready ? (this.life?.coordinators?.router ?? undefined) : undefined;
  }

  replica(key: string): PartitionReplica | undefined {
    const partition = this.partition(key);
    return this.life?.replicas.replicas().find((r) => r.partition === partition);
  }

  /**
   * This broker's replica of `key` once attached, before the broker serves too: a replica may take
   * leadership (and become writable) while its broker still opens other partitions, and the checkers
   * must see that when it happens, not when the broker is ready.
   */
  attachedReplica(key: string): PartitionReplica | undefined {
    const partition = this.life?.partitions.get(key);
    return partition === undefined ? undefined : this.life?.replicas.replicas().find((r) => r.partition === partition);
  }

  /** Boots from the disk: opens (recovers) each partition's log and attaches it to its group. */
  start(): void {
    const { env, id } = this;
    const clock = new IncarnationClock(env.clock);
    const channel = new SimPeerChannel(id, env.channelMaxBytes, env);
    const ticker = new RaftTicker(clock, TICK_MS);
    const multiRaft = new ObservedMultiRaft({ brokerId: id, channel, ticker, log: { warn: () => undefined } });
    const disk = this.disk.mount();
    const metadata = {
      get state() {
        return env.metadata();
      },
      submit: (cmd: MetadataCommand) => env.submit(cmd),
    } as unknown as MetadataService;
    const partitionOf = (groupId: number): string => {
      for (const t of env.metadata().topics()) {
        const index = t.raftGroups.indexOf(groupId);
        if (index >= 0) return partitionKey(t.name, index);
      }
      throw new Error(`no partition has Raft group ${groupId}`);
    };
    const partitions = new Map<string, Partition>();
    const coordinators =
      env.coordinators === undefined
        ? null
        : new SimCoordinators({ brokerId: id, clock, channel, metadata, partitions, random: () => this.random.nextFloat(), env: env.coordinators });
    multiRaft.observe = (groupId, entries) => env.applying(id, partitionOf(groupId), entries);
    multiRaft.observeRestore = (groupId, snapshot) => env.restoring(id, partitionOf(groupId), snapshot);
    const replicas = new PartitionReplicas({
      brokerId: id,
      metadata,
      multiRaft,
      disk,
      // The simulated disk loses what was not fsynced on a power loss: replicas fsync every write
      // (storage.syncInterval 0), the mode whose guarantees hold under it.
      syncEntries: true,
      // Term and vote of every group in the broker's one shared file, as the broker keeps them.
      hardStateDir: `/broker-${id}`,
      settings: env.learnerBytesPerSecond > 0 ? { ...env.settings, learnerSendBudget: new ByteRateBudget(env.learnerBytesPerSecond, () => clock.now()) } : env.settings,
      channelMaxBytes: env.channelMaxBytes,
      ...(env.quiesceAfterTicks > 0 ? { quiesce: { afterTicks: env.quiesceAfterTicks } } : {}),
      now: () => clock.now(),
      random: { nextInt: (n) => this.random.nextInt(n) },
      onLeadership: (replica, leadership) => {
        env.log(`broker ${id} ${replica.name} leader=${leadership.leader} term=${leadership.term}`);
        // As the broker does: the coordinator follows leadership of its partition.
        if (replica.partition.topic === TXN_STATE_TOPIC) coordinators?.check();
      },
      log: {
        info: () => undefined,
        warn: (fields, message) => env.log(`broker ${id} warning: ${message} ${describeFields(fields)}`),
        error: (fields, message) => env.fail('no crash', `broker ${id}: ${message} ${describeFields(fields)}`),
      },
    });
    this.incarnation++;
    const life: Life = { number: this.incarnation, clock, channel, ticker, multiRaft, replicas, disk, partitions, coordinators, hosting: Promise.resolve() };
    this.life = life;
    this.ready = false;
    coordinators?.start();
    clock.setTimer(this.random.between(0, TICK_MS - 1), () => ticker.start());
    life.hosting = this.open(life);
    life.hosting.catch((e: unknown) => {
      if (this.life === life) env.fail('no crash', `broker ${id} could not start: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    });
    const mover = new PartitionMover({ brokerId: id, metadata, log: { info: (fields, message) => env.log(`broker ${id} ${message} ${describeFields(fields)}`), warn: (fields, message) => env.log(`broker ${id} warning: ${message} ${describeFields(fields)}`) } });
    const move = (): void => {
      if (this.life !== life) return;
      for (const replica of replicas.replicas()) if (replica.leading) mover.step(replica);
      clock.setTimer(env.moveEveryMs, move);
    };
    clock.setTimer(env.moveEveryMs, move);
  }

  private async open(life: Life): Promise<void> {
    await this.hostAsTold(life);
    if (this.life !== life) return;
    this.ready = true;
    this.env.log(`broker ${this.id} ready (incarnation ${life.number})`);
    if (this.env.retentionEveryMs > 0) this.retainEvery(life);
  }

  /** The controller's state changed: open the partitions now hosted here, remove those moved away. */
  reconcile(): void {
    const life = this.life;
    if (life === null) return;
    life.hosting = life.hosting.then(() => (this.life === life ? this.hostAsTold(life) : undefined));
    life.hosting.catch((e: unknown) => {
      if (this.life === life) this.env.fail('no crash', `broker ${this.id} could not open or remove partitions: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    });
  }

  /** As PartitionHosting does: open what the metadata places here, close and delete what it no longer does. */
  private async hostAsTold(life: Life): Promise<void> {
    const hosted = this.hosted();
    const keys = new Set(hosted.map((h) => h.key));
    for (const [key, partition] of [...life.partitions]) {
      if (keys.has(key)) continue;
      life.partitions.delete(key);
      partition.wakeAll();
      await life.replicas.detach(partition);
      await partition.log.close();
      if (this.life !== life) return;
      await life.disk.removeDir(join(`/broker-${this.id}`, key));
      this.removals.set(key, (this.removals.get(key) ?? 0) + 1);
      this.env.log(`broker ${this.id} ${key}: replica moved away, removed`);
    }
    for (const { key, topic, index } of hosted) {
      if (life.partitions.has(key)) continue;
      const log = await Log.open(join(`/broker-${this.id}`, key), this.env.logOptions, life.disk, life.clock);
      if (this.life !== life) return;
      const partition = new Partition(topic, index, log, { strictDurability: false, leaderEpoch: 0 });
      await life.replicas.attach(partition);
      if (this.life !== life) return;
      life.partitions.set(key, partition);
      const replica = life.replicas.replicas().find((r) => r.partition === partition)!;
      this.env.attached(this.id, replica);
    }
  }

  /** Retention of every partition in turn, then again after the interval, as log maintenance runs it. */
  private retainEvery(life: Life): void {
    life.clock.setTimer(this.env.retentionEveryMs, () => {
      void (async () => {
        for (const [key, partition] of life.partitions) {
          // `__transaction_state` is compacted, never trimmed by size (the simulation does not compact).
          if (partition.topic === TXN_STATE_TOPIC) continue;
          const before = partition.logStartOffset;
          const deleted = await life.replicas.retain(partition, life.clock.now());
          if (deleted > 0) this.env.log(`broker ${this.id} ${key} retention deleted ${deleted} segment(s): log start ${before} -> ${partition.logStartOffset}`);
        }
        if (this.life === life) this.retainEvery(life);
      })().catch((e: unknown) => {
        if (this.life === life) this.env.fail('no crash', `broker ${this.id} retention failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      });
    });
  }

  /** The process dies; with `powerLoss` the machine too, and unsynced writes are torn. Returns what was torn. */
  crash(powerLoss: boolean): string {
    const life = this.life;
    if (life === null) return '';
    this.life = null;
    this.ready = false;
    life.clock.close();
    life.channel.closed = true;
    life.coordinators?.stop();
    life.ticker.stop();
    for (const p of life.partitions.values()) p.wakeAll();
    // Dead first: anything the stopping host still triggers must not reach the disk.
    const torn = powerLoss ? this.disk.crash() : this.disk.kill();
    this.earlierQuiesceNotices += life.multiRaft.stats().quiesceNoticesSent;
    life.multiRaft.stop();
    return torn;
  }

  /** Quiesce notices this broker's groups sent over all its incarnations (shows the seed exercised quiescence). */
  quiesceNoticesSent(): number {
    return this.earlierQuiesceNotices + (this.life?.multiRaft.stats().quiesceNoticesSent ?? 0);
  }

  /** The link to `peer` went down or came up (nothing while this broker is down). */
  linkChanged(peer: number, state: 'up' | 'down'): void {
    this.life?.channel.linkChanged(peer, state);
  }

  /** Replaces the disk of a stopped broker with an empty one (a replaced disk). */
  replaceDisk(disk: MemDisk): void {
    if (this.life !== null) throw new Error(`broker ${this.id} is running`);
    this.disk = disk;
    this.refillPending = true;
  }

  /**
   * Since its disk was replaced, whether it may still lack what it held: not yet serving, or some
   * replica still joining. A second replaced disk meanwhile could take the only other copies.
   */
  get refilling(): boolean {
    if (!this.refillPending) return false;
    const life = this.life;
    if (life === null || !this.ready || life.replicas.replicas().some((r) => r.driver.joining)) return true;
    this.refillPending = false;
    return false;
  }

  /** Whether a replica here still joins its group (caught up, it votes again). */
  get joining(): boolean {
    return this.life?.replicas.replicas().some((r) => r.driver.joining) ?? false;
  }

  /** A message from `from` arrives (dropped while down or booting groups that do not exist yet). */
  receive(from: number, bytes: Buffer): void {
    this.life?.channel.receive(from, bytes);
  }
}

function describeFields(fields: object): string {
  const err = (fields as { err?: unknown }).err;
  const rest = Object.entries(fields).filter(([k]) => k !== 'err').map(([k, v]) => `${k}=${String(v)}`).join(' ');
  return `${rest}${err === undefined ? '' : ` err=${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`}`;
}
