import type { TimerHandle } from '../../src/io/clock.ts';
import type { ConfState, Message, NodeId, SoftState } from '../../src/raft/index.ts';
import { RaftDriver } from '../../src/replication/raft-driver.ts';
import type { RaftNodeView, RaftSettings, SnapshotPolicy } from '../../src/replication/raft-driver.ts';
import type { RaftStateMachine } from '../../src/replication/raft-state-machine.ts';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import type { Prng } from './prng.ts';
import { SimDisk } from './sim-disk.ts';
import type { DiskEnv } from './sim-disk.ts';
import { ReplicaStateMachine } from './state-machine.ts';

/** Simulated milliseconds per Raft tick. */
export const TICK_MS = 10;

/** What a node needs from the simulation around it. */
export interface NodeEnv extends DiskEnv {
  /** Hands messages from `from` to the simulated network. */
  send(from: NodeId, to: NodeId, messages: readonly Message[]): void;
}

/** What runs above a node's driver: its applied state machine, and who hears of leadership changes. */
export interface NodeApplication<M extends RaftStateMachine> {
  /** A fresh, empty state machine for a node that boots (the driver then restores it from disk). */
  newStateMachine(id: NodeId): M;
  /** The driver's soft-state hook, after the node logged the change. */
  onSoftState?(id: NodeId, state: SoftState, term: number): void;
}

/** The simulator's own application: proposal ids applied exactly once (state-machine.ts). */
export function replicaApplication(env: NodeEnv): NodeApplication<ReplicaStateMachine> {
  return { newStateMachine: (id) => new ReplicaStateMachine((entry, proposal, count) => env.checker.onApply(id, entry, proposal, count)) };
}

/**
 * One simulated server: its durable disk (which survives crashes) and, while it is up, the
 * production RaftDriver over that disk, the simulated network and a volatile state machine,
 * ticked by its own RaftTicker (as a broker ticks its groups) that starts at a random offset so
 * that nodes do not tick in lockstep.
 */
export class SimNode<M extends RaftStateMachine = ReplicaStateMachine> {
  readonly id: NodeId;
  /** Survives crashes; replaced by an empty one when the disk is wiped. */
  disk: SimDisk;
  driver: RaftDriver | null = null;
  sm: M;
  /** Bumped at every crash, so events scheduled for an earlier life are ignored. */
  incarnation = 0;
  /**
   * Durable, like the disk: the node starts joining (RaftDriverOptions.joining) until its driver
   * reports it joined, across crashes in between (partition-replicas.ts keeps a marker file for it).
   */
  joining = false;
  /** The voters when its disk was replaced, whose term it learns before it acknowledges anything. */
  private lostLogMembers: readonly NodeId[] | null = null;
  /** The membership a brand-new disk starts from: the group's first configuration. */
  private readonly initialConf: ConfState;
  private ticker: RaftTicker | null = null;
  private tickerStart: TimerHandle | null = null;

  constructor(
    id: NodeId,
    conf: ConfState,
    private readonly settings: RaftSettings,
    private readonly snapshots: SnapshotPolicy,
    private readonly random: Prng,
    private readonly env: NodeEnv,
    private readonly application: NodeApplication<M>,
  ) {
    this.id = id;
    this.initialConf = conf;
    this.disk = new SimDisk(id, conf, random.fork(), env);
    this.sm = application.newStateMachine(id);
  }

  get up(): boolean {
    return this.driver !== null;
  }

  /** The Raft node as the checkers read it, while up. */
  get raft(): RaftNodeView | null {
    return this.driver?.raft ?? null;
  }

  /** Boots from the durable disk: the driver restores the state machine from the stored snapshot. */
  start(): void {
    const { id, env } = this;
    this.sm = this.application.newStateMachine(id);
    const driver = new RaftDriver({
      id,
      store: this.disk,
      transport: { send: (to, messages) => env.send(id, to, messages) },
      stateMachine: this.sm,
      random: this.random.fork(),
      // Back from a replaced disk, it learns the term from the voters first (RaftConfig.lostLogMembers).
      settings: this.joining && this.lostLogMembers !== null ? { ...this.settings, lostLogMembers: this.lostLogMembers } : this.settings,
      snapshots: this.snapshots,
      onSoftState: (state, term) => {
        env.log(`node ${id} ${state.role} term=${term} lead=${state.lead}`);
        this.application.onSoftState?.(id, state, term);
      },
      onFailure: (error) => env.checker.fail('no crash', `node ${id} stopped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`),
      joining: this.joining,
      onJoined: () => {
        this.joining = false;
        env.log(`node ${id} joined at term ${driver.raft.term} applied ${driver.raft.appliedIndex}`);
      },
    });
    this.driver = driver;
    this.disk.onLoaded = () => this.driver?.storageLoaded();
    const ticker = new RaftTicker(env.clock, TICK_MS);
    ticker.add(driver);
    this.ticker = ticker;
    this.tickerStart = env.clock.setTimer(this.random.between(0, TICK_MS - 1), () => ticker.start());
  }

  /** Loses everything volatile, and the writes not yet durable. Returns what the crash tore. */
  crash(): string {
    this.driver?.stop();
    this.driver = null;
    this.ticker?.stop();
    this.ticker = null;
    this.env.clock.clearTimer(this.tickerStart);
    this.incarnation++;
    return this.disk.crash();
  }

  /**
   * Crashes, and the disk is replaced by an empty one (same node id) holding only what a new
   * replica's store is created with: the group's first configuration, as partition-replicas.ts and
   * cluster-node.ts pass `initialConfState`, not the configuration in force (a new disk has no record
   * of it). Here that is every node as a voter, so a wiped node may believe itself a voter of a group
   * that removed it until it replays the removal from the log (or installs a snapshot), like any new
   * replica; joining keeps it from acting on that. With `joining` the node joins at its next start.
   */
  wipe(joining: boolean, voters: readonly NodeId[]): void {
    this.crash();
    this.disk = new SimDisk(this.id, this.initialConf, this.random.fork(), this.env);
    this.joining = joining;
    this.lostLogMembers = voters;
  }
}
