/**
 * Goal: one simulated broker's controller, built from the production classes as a broker builds
 * them: a RaftDriver (inside a SimNode, over its SimDisk) applying to a ControllerStateMachine, and
 * a ReplicatedMetadata over that driver, a controller channel and a clock.
 * Method: everything volatile belongs to one incarnation. A crash stops the driver (SimNode), and
 * closes the incarnation's clock and channel: its timers never fire again and it neither sends nor
 * receives, so its pending submits are abandoned as a dead process's would be. A restart builds a
 * fresh ControllerStateMachine and ReplicatedMetadata over the same durable disk.
 */
import type { Clock, TimerHandle } from '../../src/io/clock.ts';
import type { ConfState, NodeId } from '../../src/raft/index.ts';
import type { ControllerChannel } from '../../src/replication/controller/controller-channel.ts';
import { ControllerStateMachine } from '../../src/replication/controller/controller-state-machine.ts';
import { ReplicatedMetadata, type ReplicatedMetadataOptions } from '../../src/replication/controller/replicated-metadata.ts';
import type { RaftSettings, SnapshotPolicy } from '../../src/replication/raft-driver.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import { ObservedControllerMachine, type ControllerChecker } from './controller-checkers.ts';
import type { Prng } from './prng.ts';
import { SimNode, type NodeEnv } from './sim-node.ts';

export type ChannelMessage = { type: number; body: unknown };

/** What a controller broker needs from the simulation around it, beyond a SimNode's needs. */
export interface ControllerEnv extends NodeEnv {
  readonly clock: ManualClock;
  readonly controllerChecker: ControllerChecker;
  /** Hands a controller-channel message to the simulated network; false when `to` is no peer. */
  sendChannel(from: NodeId, to: NodeId, message: ChannelMessage): boolean;
  /** The production classes, or deliberately broken subclasses (controller-bugs.ts). */
  newStateMachine(id: NodeId): ControllerStateMachine;
  newMetadata(options: ReplicatedMetadataOptions): ReplicatedMetadata;
  newClusterId(id: NodeId): string;
  readonly submitTimeoutMs: number;
}

const quietLog = { warn: () => undefined, info: () => undefined };

/** A Clock whose timers all die with the incarnation that set them. */
export class IncarnationClock implements Clock {
  private readonly timers = new Set<TimerHandle>();
  closed = false;

  constructor(private readonly clock: ManualClock) {}

  now(): number {
    return this.clock.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    if (this.closed) return null;
    const handle = this.clock.setTimer(delayMs, () => {
      this.timers.delete(handle);
      fn();
    });
    this.timers.add(handle);
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle);
    this.clock.clearTimer(handle);
  }

  close(): void {
    this.closed = true;
    for (const handle of this.timers) this.clock.clearTimer(handle);
    this.timers.clear();
  }
}

export class ControllerBroker {
  readonly id: NodeId;
  readonly node: SimNode<ObservedControllerMachine>;
  /** The current incarnation's metadata service; null while down. */
  meta: ReplicatedMetadata | null = null;
  private life: IncarnationClock | null = null;
  private handler: ((from: number, message: ChannelMessage) => void) | null = null;

  constructor(id: NodeId, conf: ConfState, settings: RaftSettings, snapshots: SnapshotPolicy, private readonly random: Prng, private readonly env: ControllerEnv) {
    this.id = id;
    this.node = new SimNode(id, conf, settings, snapshots, random, env, {
      newStateMachine: (nodeId) => new ObservedControllerMachine(nodeId, env.newStateMachine(nodeId), env.controllerChecker),
      onSoftState: (_nodeId, state, term) => this.meta?.leadershipChanged(state, term),
    });
  }

  get up(): boolean {
    return this.node.up;
  }

  /** Bumped at every crash: a callback of an earlier life compares it and gives up. */
  get incarnation(): number {
    return this.node.incarnation;
  }

  get appliedIndex(): number {
    return this.node.raft?.appliedIndex ?? -1;
  }

  /** Boots from the durable disk with a fresh state machine and metadata service. */
  start(): void {
    const { id, env } = this;
    this.node.start();
    const life = new IncarnationClock(env.clock);
    this.life = life;
    const channel: ControllerChannel = {
      send: (to, _lane, message) => !life.closed && env.sendChannel(id, to, message),
      onMessage: (handler) => {
        this.handler = handler;
      },
    };
    this.meta = env.newMetadata({
      brokerId: id,
      driver: this.node.driver!,
      stateMachine: this.node.sm.inner,
      channel,
      clock: life,
      newClusterId: () => env.newClusterId(id),
      random: () => this.random.nextFloat(),
      submitTimeoutMs: env.submitTimeoutMs,
      log: quietLog,
    });
  }

  /** The process dies: nothing volatile survives, writes not yet durable are torn. */
  crash(): string {
    this.life?.close();
    this.life = null;
    this.meta = null;
    this.handler = null;
    return this.node.crash();
  }

  /** A controller-channel message arrives (dropped while down). */
  receive(from: NodeId, message: ChannelMessage): void {
    if (this.node.up && this.handler !== null) this.handler(from, message);
  }
}
