// Multi-raft hosts for tests: an in-memory network of PeerChannels that packs every body to
// MessagePack and back (so hosts exchange exactly what the real transport would carry, size limit
// included), holds what was sent until the test delivers it, and collects the hosts' flushes so the
// test decides when a scheduling turn ends. Plus group options over synchronous MemoryStorage disks.
import assert from 'node:assert/strict';
import type { ConfState, NodeId } from '../../src/raft/index.ts';
import { packPlain, unpackPlain } from '../../src/protocol/cluster/plain-codec.ts';
import type { ChannelMessage, PeerChannel, PeerLane, PeerLinkState } from '../../src/replication/peer-channel.ts';
import type { GroupOptions } from '../../src/replication/multi-raft.ts';
import type { QuiescePolicy, RaftSettings, SnapshotPolicy } from '../../src/replication/raft-driver.ts';
import { StreamBusError } from '../../src/util/errors.ts';
import { HandDisk, RecordingStateMachine } from './raft-group.ts';

export interface Wire {
  readonly from: number;
  readonly to: number;
  readonly lane: PeerLane;
  readonly type: number;
  readonly bytes: Buffer;
}

export class FakeNetwork {
  readonly channels = new Map<number, FakeChannel>();
  /** Every message any channel accepted, in order. */
  readonly sent: Wire[] = [];
  /** Accepted and not delivered yet. */
  queue: Wire[] = [];
  private flushes: (() => void)[] = [];
  readonly schedule = (fn: () => void): void => {
    this.flushes.push(fn);
  };

  channel(id: number, maxMessageBytes = 2 * 1024 * 1024): FakeChannel {
    const channel = new FakeChannel(this, id, maxMessageBytes);
    this.channels.set(id, channel);
    return channel;
  }

  /** Ends the current scheduling turn: runs the flushes the hosts asked for. */
  flush(): void {
    const flushes = this.flushes;
    this.flushes = [];
    for (const fn of flushes) fn();
  }

  get pendingFlushes(): number {
    return this.flushes.length;
  }

  /** Delivers what is queued (except what `drop` says), each message as one turn followed by its flushes. */
  deliver(drop: (w: Wire) => boolean = () => false): void {
    const queue = this.queue;
    this.queue = [];
    for (const w of queue) {
      if (!drop(w)) this.channels.get(w.to)!.receive(w.from, w.bytes);
      this.flush();
    }
  }

  /** Flushes and delivers until nothing is left (bounded). */
  settle(drop?: (w: Wire) => boolean): void {
    for (let round = 0; this.queue.length > 0 || this.flushes.length > 0; round++) {
      assert.ok(round < 1000, 'the network did not settle');
      this.flush();
      this.deliver(drop);
    }
  }
}

export class FakeChannel implements PeerChannel {
  /** send() returns false (dropped) for messages this says no to. */
  refuse: (to: number, lane: PeerLane, type: number) => boolean = () => false;
  private readonly messageHandlers: ((from: number, message: ChannelMessage) => void)[] = [];
  private readonly stateHandlers: ((peer: number, state: PeerLinkState) => void)[] = [];

  constructor(
    private readonly network: FakeNetwork,
    readonly id: number,
    readonly maxMessageBytes: number,
  ) {}

  send(to: number, lane: PeerLane, message: ChannelMessage): boolean {
    assert.notEqual(to, this.id, 'a message to the sending broker itself');
    assert.ok(this.network.channels.has(to), `broker ${to} is not on the network`);
    const bytes = packPlain([message.type, message.body]);
    if (bytes.length > this.maxMessageBytes) throw new StreamBusError('SB_ERR_PEER_MESSAGE', `message of ${bytes.length} bytes is larger than ${this.maxMessageBytes}`);
    if (this.refuse(to, lane, message.type)) return false;
    const wire = { from: this.id, to, lane, type: message.type, bytes };
    this.network.sent.push(wire);
    this.network.queue.push(wire);
    return true;
  }

  onMessage(handler: (from: number, message: ChannelMessage) => void): void {
    this.messageHandlers.push(handler);
  }

  onPeerState(handler: (peer: number, state: PeerLinkState) => void): void {
    this.stateHandlers.push(handler);
  }

  /** Hands `bytes` (an encoded [type, body]) to the handlers, as arriving from `from`. */
  receive(from: number, bytes: Buffer): void {
    const [type, body] = unpackPlain(bytes) as [number, unknown];
    for (const handler of this.messageHandlers) handler(from, { type, body });
  }

  /** Hands an arbitrary body to the handlers. */
  inject(from: number, type: number, body: unknown): void {
    for (const handler of this.messageHandlers) handler(from, { type, body });
  }

  peerState(peer: number, state: PeerLinkState): void {
    for (const handler of this.stateHandlers) handler(peer, state);
  }
}

export interface MemberOptions {
  readonly settings?: RaftSettings;
  readonly snapshots?: SnapshotPolicy;
  /** Quiesce when idle (never without it). */
  readonly quiesce?: QuiescePolicy;
  /** Election-timeout jitter; 0 makes the member campaign first. */
  readonly nextInt?: (bound: number) => number;
}

/** A member built over a synchronous MemoryStorage disk, recording what it applies. */
export interface Member {
  readonly options: GroupOptions;
  readonly disk: HandDisk;
  readonly machine: RecordingStateMachine;
  readonly failures: unknown[];
}

export function member(id: NodeId, voters: readonly NodeId[], opts: MemberOptions = {}): Member {
  const events: string[] = [];
  const conf: ConfState = { voters: [...voters], learners: [] };
  const disk = new HandDisk(conf, events, id);
  disk.autoSync = true;
  const machine = new RecordingStateMachine(events, id);
  // The shared event list would grow without bound in long tests; these members do not need it.
  events.push = () => 0;
  const failures: unknown[] = [];
  const options: GroupOptions = {
    id,
    store: disk,
    stateMachine: machine,
    random: { nextInt: opts.nextInt ?? (() => 0) },
    settings: { electionTicks: 10, heartbeatTicks: 1, ...opts.settings },
    snapshots: opts.snapshots,
    ...(opts.quiesce === undefined ? {} : { quiesce: opts.quiesce }),
    onFailure: (error) => failures.push(error),
  };
  return { options, disk, machine, failures };
}
