// A Raft group of production RaftDrivers for the driver's tests: hand-synced disks (a write
// becomes durable only when the test says so, unless the disk syncs on its own), a network queue
// the test delivers, drops or inspects, and state machines that record what they applied. Every
// observable step goes into one shared `events` list, so tests can check the order of persist,
// durable, send, apply and callback.
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/raft/index.ts';
import type { ConfState, Entry, Message, NodeId, Snapshot } from '../../src/raft/index.ts';
import { RaftDriver } from '../../src/replication/raft-driver.ts';
import type { QuiescePolicy, RaftSettings, SnapshotPolicy } from '../../src/replication/raft-driver.ts';
import type { RaftLogStore, RaftLogWrite } from '../../src/replication/raft-log-store.ts';
import type { RaftStateMachine } from '../../src/replication/raft-state-machine.ts';

export const text = (s: string) => new TextEncoder().encode(s);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A MemoryStorage whose synced writes wait for sync(); writes that need no fsync land at once. */
export class HandDisk extends MemoryStorage implements RaftLogStore {
  autoSync = false;
  private pending: { write: RaftLogWrite; done: (error: Error | null) => void } | null = null;

  constructor(
    conf: ConfState,
    private readonly events: string[],
    private readonly id: NodeId,
  ) {
    super(conf);
  }

  get writing(): boolean {
    return this.pending !== null;
  }

  persist(write: RaftLogWrite, done: (error: Error | null) => void): void {
    assert.equal(this.pending, null, 'a second write while one is in flight');
    this.events.push(`${this.id} persist`);
    this.pending = { write, done };
    if (this.autoSync || !write.mustSync) this.sync();
  }

  /** The write in flight becomes durable. */
  sync(): void {
    const pending = this.pending;
    assert.ok(pending !== null, 'no write in flight');
    this.pending = null;
    if (pending.write.snapshot !== null) this.applySnapshot(pending.write.snapshot);
    this.append(pending.write.entries);
    if (pending.write.hardState !== null) this.setHardState(pending.write.hardState);
    this.events.push(`${this.id} durable`);
    pending.done(null);
  }

  /** The write in flight fails. */
  fail(error: Error): void {
    const pending = this.pending;
    assert.ok(pending !== null, 'no write in flight');
    this.pending = null;
    pending.done(error);
  }
}

/** Applies entries by recording their payloads ('' for no-ops and conf changes). */
export class RecordingStateMachine implements RaftStateMachine {
  applied: string[] = [];
  appliedIndex = 0;

  constructor(
    private readonly events: string[],
    private readonly id: NodeId,
  ) {}

  apply(entries: readonly Entry[]): void {
    for (const e of entries) {
      assert.equal(e.index, this.appliedIndex + 1, 'entries applied out of order');
      this.appliedIndex = e.index;
      this.applied.push(e.type === 0 ? decode(e.data) : '');
      this.events.push(`${this.id} apply ${e.index}`);
    }
  }

  snapshot(): Uint8Array {
    return text(JSON.stringify(this.applied));
  }

  restore(snapshot: Snapshot): void {
    this.appliedIndex = snapshot.metadata.index;
    this.applied = snapshot.data.length === 0 ? [] : (JSON.parse(decode(snapshot.data)) as string[]);
  }
}

export interface GroupOptions {
  readonly settings?: RaftSettings;
  readonly snapshots?: SnapshotPolicy;
  /** The groups quiesce; the notices sent are recorded in `quiesceNotices`, for the test to deliver. */
  readonly quiesce?: QuiescePolicy;
}

export class RaftGroup {
  readonly events: string[] = [];
  readonly disks = new Map<NodeId, HandDisk>();
  readonly machines = new Map<NodeId, RecordingStateMachine>();
  readonly drivers = new Map<NodeId, RaftDriver>();
  readonly failures: unknown[] = [];
  /** Sent and not yet delivered, in order. */
  network: Message[] = [];
  /** Quiesce notices sent (with GroupOptions.quiesce), in order. */
  readonly quiesceNotices: { from: NodeId; to: NodeId; term: number; commit: number }[] = [];

  constructor(
    readonly ids: NodeId[],
    private readonly options: GroupOptions = {},
  ) {
    for (const id of ids) {
      this.disks.set(id, new HandDisk({ voters: ids, learners: [] }, this.events, id));
      this.start(id);
    }
  }

  driver(id: NodeId): RaftDriver {
    return this.drivers.get(id)!;
  }

  disk(id: NodeId): HandDisk {
    return this.disks.get(id)!;
  }

  machine(id: NodeId): RecordingStateMachine {
    return this.machines.get(id)!;
  }

  /** (Re)starts node `id` over its disk, with a fresh state machine. */
  start(id: NodeId): RaftDriver {
    const machine = new RecordingStateMachine(this.events, id);
    this.machines.set(id, machine);
    const driver = new RaftDriver({
      id,
      store: this.disk(id),
      transport: {
        send: (to, messages) => {
          for (const m of messages) {
            assert.equal(m.to, to);
            this.events.push(`${id} send ${m.type} to ${to}`);
          }
          this.network.push(...messages);
        },
        quiesce: (to, term, commit) => {
          this.quiesceNotices.push({ from: id, to, term, commit });
        },
      },
      stateMachine: machine,
      random: { nextInt: () => 0 },
      settings: { preVote: false, ...this.options.settings },
      snapshots: this.options.snapshots,
      ...(this.options.quiesce === undefined ? {} : { quiesce: this.options.quiesce }),
      onFailure: (error) => this.failures.push(error),
    });
    this.drivers.set(id, driver);
    return driver;
  }

  /** Delivers what is queued, and what that causes, until nothing is left (bounded), except dropped messages. */
  deliver(drop: (m: Message) => boolean = () => false): void {
    for (let round = 0; this.network.length > 0; round++) {
      assert.ok(round < 1000, 'the group did not settle');
      const messages = this.network;
      this.network = [];
      for (const m of messages) if (!drop(m)) this.drivers.get(m.to)?.step(m);
    }
  }

  /** Makes node `id` leader: it campaigns at its election timeout, every disk syncing on its own. */
  elect(id: NodeId): void {
    for (const disk of this.disks.values()) disk.autoSync = true;
    const electionTicks = this.options.settings?.electionTicks ?? 10;
    for (let i = 0; i < electionTicks && !this.driver(id).raft.isLeader; i++) {
      this.driver(id).tick();
      this.deliver();
    }
    assert.equal(this.driver(id).raft.isLeader, true, `node ${id} did not become leader`);
  }
}
