// Three (or more) brokers' controllers, each a production RaftDriver + ControllerStateMachine +
// ReplicatedMetadata, over memory logs that sync at once, a Raft network and a controller channel the
// harness delivers by hand, and one ManualClock. `settle` runs deliveries and promise callbacks until
// nothing moves, so tests read the outcome of a submit deterministically.
import assert from 'node:assert/strict';
import { MemoryStorage, type Message, type NodeId } from '../../../src/raft/index.ts';
import { RaftDriver } from '../../../src/replication/raft-driver.ts';
import type { RaftLogStore, RaftLogWrite } from '../../../src/replication/raft-log-store.ts';
import { ControllerStateMachine } from '../../../src/replication/controller/controller-state-machine.ts';
import { ReplicatedMetadata } from '../../../src/replication/controller/replicated-metadata.ts';
import type { ControllerChannel } from '../../../src/replication/controller/controller-channel.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

class SyncedLog extends MemoryStorage implements RaftLogStore {
  persist(write: RaftLogWrite, done: (error: Error | null) => void): void {
    if (write.snapshot !== null) this.applySnapshot(write.snapshot);
    this.append(write.entries);
    if (write.hardState !== null) this.setHardState(write.hardState);
    done(null);
  }
}

interface ChannelMessage {
  readonly from: number;
  readonly to: number;
  readonly message: { type: number; body: unknown };
}

export const quietLog = { warn: () => undefined, info: () => undefined };

export class ControllerHarness {
  readonly clock = new ManualClock();
  readonly drivers = new Map<NodeId, RaftDriver>();
  readonly machines = new Map<NodeId, ControllerStateMachine>();
  readonly metadata = new Map<NodeId, ReplicatedMetadata>();
  readonly warnings: { from: number; fields: object; message: string }[] = [];
  raftNetwork: Message[] = [];
  channelNetwork: ChannelMessage[] = [];
  /** Brokers cut off: nothing they send or should receive is delivered. */
  readonly isolated = new Set<NodeId>();
  private readonly handlers = new Map<NodeId, (from: number, message: { type: number; body: unknown }) => void>();
  private clusterIds = 0;

  /**
   * `ids` are the voters (cluster.nodes); `added` are brokers outside them, which start outside the
   * group and ask the voters for the leader (a test adds them as learners).
   */
  constructor(
    readonly ids: NodeId[],
    submitTimeoutMs = 5_000,
    readonly added: NodeId[] = [],
  ) {
    const everyone = [...ids, ...added];
    for (const id of everyone) {
      const machine = new ControllerStateMachine();
      let meta: ReplicatedMetadata | undefined;
      const driver = new RaftDriver({
        id,
        store: new SyncedLog({ voters: ids, learners: [] }),
        transport: { send: (_to, messages) => this.raftNetwork.push(...messages) },
        stateMachine: machine,
        random: { nextInt: () => 0 },
        settings: { preVote: true },
        onSoftState: (state, term) => meta?.leadershipChanged(state, term),
        onFailure: (error) => assert.fail(`controller group of ${id} failed: ${String(error)}`),
      });
      const channel: ControllerChannel = {
        send: (to, _lane, message) => {
          if (!everyone.includes(to)) return false;
          this.channelNetwork.push({ from: id, to, message });
          return true;
        },
        onMessage: (handler) => this.handlers.set(id, handler),
      };
      meta = new ReplicatedMetadata({
        brokerId: id,
        driver,
        stateMachine: machine,
        channel,
        clock: this.clock,
        newClusterId: () => `cluster-${++this.clusterIds}`,
        random: () => 0,
        submitTimeoutMs,
        ...(added.includes(id) ? { contacts: ids } : {}),
        log: { warn: (fields, message) => this.warnings.push({ from: id, fields, message }), info: () => undefined },
      });
      this.drivers.set(id, driver);
      this.machines.set(id, machine);
      this.metadata.set(id, meta);
    }
  }

  meta(id: NodeId): ReplicatedMetadata {
    return this.metadata.get(id)!;
  }

  /** Delivers a message on the controller channel as if broker `from` had sent it. */
  inject(from: number, to: number, message: { type: number; body: unknown }): void {
    this.channelNetwork.push({ from, to, message });
  }

  /** Delivers messages and runs promise callbacks until nothing is left to do (bounded). */
  async settle(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      const raft = this.raftNetwork;
      const channel = this.channelNetwork;
      this.raftNetwork = [];
      this.channelNetwork = [];
      for (const m of raft) if (!this.isolated.has(m.from) && !this.isolated.has(m.to)) this.drivers.get(m.to)?.step(m);
      for (const m of channel) if (!this.isolated.has(m.from) && !this.isolated.has(m.to)) this.handlers.get(m.to)?.(m.from, m.message);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.raftNetwork.length === 0 && this.channelNetwork.length === 0) return;
    }
    assert.fail('the controllers did not settle');
  }

  /** Makes `id` the leader by ticking it to its election timeout, then lets everything settle. */
  async elect(id: NodeId): Promise<void> {
    // The others tick too (without reaching their own timeout first): a follower that still hears a
    // leader refuses to vote (check-quorum), so their leases must run out as in real time.
    for (let i = 0; i < 60 && !this.drivers.get(id)!.raft.isLeader; i++) {
      this.drivers.get(id)!.tick();
      if (i % 2 === 1) for (const [other, driver] of this.drivers) if (other !== id) driver.tick();
      await this.settle();
    }
    assert.equal(this.drivers.get(id)!.raft.isLeader, true, `broker ${id} did not become leader`);
    await this.settle();
  }

  /** Runs `promise` to its end, moving the clock and ticking every broker in `stepMs` steps while it waits (bounded). */
  async finish<T>(promise: Promise<T>, stepMs = 10): Promise<T> {
    let done = false;
    let value: T | undefined;
    void promise.then((v) => {
      done = true;
      value = v;
    });
    for (let i = 0; i < 10_000 && !done; i++) {
      await this.settle();
      if (done) break;
      // Time passes as with a ticker: every broker ticks each step.
      this.clock.advance(stepMs);
      for (const driver of this.drivers.values()) driver.tick();
    }
    assert.ok(done, 'the operation did not finish');
    return value as T;
  }
}
