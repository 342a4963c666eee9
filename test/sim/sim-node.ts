import { MemoryStorage, RaftNode } from '../../src/raft/index.ts';
import type { ConfState, NodeId, RaftConfig, Ready } from '../../src/raft/index.ts';
import type { Prng } from './prng.ts';
import { SimDisk } from './sim-disk.ts';
import { ReplicaStateMachine } from './state-machine.ts';

/** Raft settings a simulation run draws once from its seed and gives every node. */
export type NodeSettings = Omit<RaftConfig, 'id' | 'storage' | 'random' | 'applied'>;

/**
 * One simulated server: its durable storage (which survives crashes), and while it is up, its
 * Raft node, its volatile state machine, the Ready whose fsync is in flight, and the client
 * proposals it accepted and has not yet seen applied.
 */
export class SimNode {
  readonly id: NodeId;
  readonly disk: SimDisk;
  raft: RaftNode | null = null;
  sm: ReplicaStateMachine;
  /** The Ready being persisted (waiting for its fsync). */
  pending: Ready | null = null;
  /** Bumped at every crash, so events scheduled for an earlier life are ignored. */
  incarnation = 0;
  /** index -> the proposal accepted there, to acknowledge when that entry is applied. */
  readonly proposals = new Map<number, { term: number; id: string }>();
  private readonly settings: NodeSettings;
  private readonly random: Prng;

  constructor(id: NodeId, conf: ConfState, settings: NodeSettings, random: Prng) {
    this.id = id;
    this.settings = settings;
    this.random = random;
    this.disk = new SimDisk(new MemoryStorage(conf), random.fork());
    this.sm = new ReplicaStateMachine(0, new Uint8Array(0));
  }

  get up(): boolean {
    return this.raft !== null;
  }

  /** Boots from durable storage: the state machine restarts from the stored snapshot. */
  start(): void {
    const storage = this.disk.storage;
    const snapshot = storage.snapshot();
    this.sm = new ReplicaStateMachine(snapshot.metadata.index, snapshot.data);
    const random = this.random.fork();
    this.raft = new RaftNode({ ...this.settings, id: this.id, storage, random, applied: snapshot.metadata.index });
    this.pending = null;
  }

  /** Loses everything volatile. */
  crash(): void {
    this.raft = null;
    this.pending = null;
    this.proposals.clear();
    this.incarnation++;
  }
}
