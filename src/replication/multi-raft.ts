/**
 * The multi-raft host of one broker: every Raft group this broker is a member of (the controller
 * group, a group per partition replica) shares one peer channel and one ticker. Each group gets a
 * RaftDriver whose transport tags its messages with the group id; the host buffers what all groups
 * send and flushes once per scheduling turn, so that a broker leading a thousand groups sends one
 * heartbeat message per peer per tick, not a thousand (raft-outbox.ts has the plan of a flush, and
 * src/protocol/cluster/raft-codec.ts the layouts). docs/replication.md, "Multi-raft host".
 *
 * Node ids are broker ids: a group member on this broker has id `brokerId`, and a message to node n
 * goes to broker n. The core never addresses itself, so a message to this broker is a broken
 * invariant: it fails its group (the driver stops it) and never reaches the channel.
 *
 * Failures of the network are reported to the groups, never thrown: a transport message the channel
 * drops makes every group with a message in it see reportUnreachable(peer) (the leader stops
 * pipelining and probes); a snapshot message reports reportSnapshot(peer, ok) with whether the
 * channel took it; a peer going down is reported to every group. A failed snapshot is reported at the
 * group's next tick rather than at once: the core retries a failed snapshot straight away, and a
 * snapshot that cannot be sent (peer down, too large) would otherwise be retried in a tight loop of
 * flushes that starves the event loop. Snapshots travel as one message, so a snapshot larger than the
 * channel's limit fails; chunked snapshot streaming is a later step.
 * Appends stay under the limit because every group's `settings.maxMessageBytes` (the entry bytes per
 * append) must leave APPEND_HEADROOM_BYTES under the channel's (checked in addGroup); a single entry
 * larger than that is refused by the channel, counted, and reported as unreachable.
 *
 * Incoming bodies are decoded and checked before anything reaches a group; a body that does not
 * decode is dropped whole and counted, as is a message addressed between the wrong brokers. Nothing
 * thrown escapes the channel's handler.
 *
 * A message for a group this broker does not host yet is held for a short while (PARK_MS, bounded in
 * count and bytes) and handed over if the group is added meanwhile, else dropped and counted: a new partition's
 * replicas open on each broker at their own pace, and the first leader's vote requests and appends
 * would otherwise be lost on the brokers still opening it, costing the group an election timeout (a
 * heartbeat for appends) before it can commit. A late message is only a delayed one, which Raft
 * tolerates.
 *
 * Quiescence (raft-driver.ts): a group's quiesce notices are coalesced per peer like heartbeats
 * (RAFT_QUIESCE) and handed to the receiving group's driver; a quiesced group leaves the ticker and
 * comes back when it wakes, so idle groups cost nothing per tick; a notice the channel drops reports
 * the peer unreachable to its leader, which wakes it and has it notify again; a notice from a peer
 * reported down (and not up since) is ignored. A leader may quiesce
 * without a member whose link is down (a quorum holding its log); when that link comes up again,
 * every quiesced leader here wakes to catch the member up.
 *
 * Deterministic: no clock, no randomness; when a flush runs is up to the injected `schedule`.
 */
import { DEFAULT_MAX_MESSAGE_BYTES, type Message } from '../raft/index.ts';
import { decodeGroupMessages, decodeHeartbeats, decodeQuiesce, RAFT_PEER_TYPE_MAX, RAFT_PEER_TYPE_MIN, RAFT_PEER_TYPES, type GroupMessage, type QuiesceNotice, type WireMessage } from '../protocol/cluster/raft-codec.ts';
import { assert } from '../util/assert.ts';
import { isStreamBusError } from '../util/errors.ts';
import { copyStats, emptyStats, peerCounters, type MultiRaftStats } from './multi-raft-stats.ts';
import type { ChannelMessage, PeerChannel, PeerLinkState } from './peer-channel.ts';
import { RaftDriver, type RaftDriverOptions } from './raft-driver.ts';
import { RaftOutbox, type PlannedSend } from './raft-outbox.ts';
import type { RaftTicker } from './raft-ticker.ts';

export type { MultiRaftStats, PeerCounters, TypeCounters } from './multi-raft-stats.ts';

// The wire types restate the core's types (protocol may not import raft): these fail to compile if
// the two drift apart.
const wireOfMessage = (m: Message): WireMessage => m;
const messageOfWire = (m: WireMessage): Message => m;
void wireOfMessage;
void messageOfWire;

/** Room for a message's headers beyond the entry bytes its group's settings allow per append. */
export const APPEND_HEADROOM_BYTES = 16 * 1024;
const GROUP_ID_MAX = 0x7fffffff;
/** How long a message for a group not hosted yet is held (see the header). */
export const PARK_MS = 3_000;
/** Held messages at most, over all groups, and per group (the newest are kept); and their entry bytes at most. */
export const PARKED_MAX = 20_000;
export const PARKED_PER_GROUP = 16;
export const PARKED_MAX_BYTES = 64 * 1024 * 1024;

/** The one method of a logger the host uses (pino's satisfies it). */
export interface MultiRaftLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface MultiRaftOptions {
  /** This broker, and the node id of every group member it hosts. */
  readonly brokerId: number;
  readonly channel: PeerChannel;
  /** Ticks every group added; the owner starts and stops it. */
  readonly ticker: RaftTicker;
  /** Runs `fn` later, once per call, after the current synchronous work (default: queueMicrotask). */
  readonly schedule?: (fn: () => void) => void;
  readonly log?: MultiRaftLog;
}

export type GroupOptions = Omit<RaftDriverOptions, 'transport'>;

/** A group's driver as the ticker ticks it: snapshot failures held back since the last tick go first. */
class HostedGroup {
  /** Peers whose snapshot could not be handed to the channel since the last tick. */
  readonly failedSnapshots = new Set<number>();

  constructor(readonly driver: RaftDriver) {}

  tick(): void {
    if (this.driver.quiesced && this.failedSnapshots.size === 0) return;
    for (const peer of this.failedSnapshots) this.driver.reportSnapshot(peer, false);
    this.failedSnapshots.clear();
    this.driver.tick();
  }
}

export class MultiRaft {
  readonly brokerId: number;
  private readonly channel: PeerChannel;
  private readonly ticker: RaftTicker;
  private readonly schedule: (fn: () => void) => void;
  private readonly log: MultiRaftLog | undefined;
  private readonly groups = new Map<number, HostedGroup>();
  private readonly outbox = new RaftOutbox();
  private readonly counters: MultiRaftStats = emptyStats();
  private flushScheduled = false;
  /** Peers whose link the channel reported down and not up since. */
  private readonly downPeers = new Set<number>();
  private stoppedFlag = false;
  /** Messages for groups not hosted (yet), by group, with the tick they arrived (see the header). */
  private readonly parked = new Map<number, { from: number; m: Message; tick: number; bytes: number }[]>();
  private parkedCount = 0;
  private parkedBytes = 0;
  private ticks = 0;
  /** Ticks a parked message is kept: PARK_MS in the ticker's ticks. */
  private readonly parkTicks: number;
  /** In the ticker while messages are parked: expires them. */
  private readonly parkSweeper = { tick: (): void => this.sweepParked() };

  constructor(options: MultiRaftOptions) {
    assert(Number.isSafeInteger(options.brokerId) && options.brokerId > 0 && options.brokerId <= 0x7fffffff, `broker id must be 1..2^31-1, got ${options.brokerId}`);
    assert(options.channel.maxMessageBytes > APPEND_HEADROOM_BYTES, 'the channel must carry messages larger than the append headroom');
    this.brokerId = options.brokerId;
    this.channel = options.channel;
    this.parkTicks = Math.max(1, Math.ceil(PARK_MS / options.ticker.tickMs));
    this.ticker = options.ticker;
    this.schedule = options.schedule ?? ((fn) => queueMicrotask(fn));
    this.log = options.log;
    this.channel.onMessage((from, message) => this.receive(from, message));
    this.channel.onPeerState((peer, state, restarted) => this.peerState(peer, state, restarted));
  }

  get size(): number {
    return this.groups.size;
  }

  /** Hosts group `groupId` with this broker's member: builds its driver and ticks it from the next tick. */
  addGroup(groupId: number, options: GroupOptions): RaftDriver {
    assert(!this.stoppedFlag, 'the multi-raft host is stopped');
    assert(Number.isSafeInteger(groupId) && groupId >= 0 && groupId <= GROUP_ID_MAX, `group id must be 0..2^31-1, got ${groupId}`);
    assert(!this.groups.has(groupId), `group ${groupId} is hosted already`);
    assert(options.id === this.brokerId, `the member of group ${groupId} on broker ${this.brokerId} must have node id ${this.brokerId}, not ${options.id}`);
    const appendBytes = options.settings?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    assert(
      appendBytes + APPEND_HEADROOM_BYTES <= this.channel.maxMessageBytes,
      `group ${groupId}: maxMessageBytes ${appendBytes} must stay ${APPEND_HEADROOM_BYTES} bytes under the channel's ${this.channel.maxMessageBytes}`,
    );
    let hosted: HostedGroup | undefined;
    const driver = new RaftDriver({
      ...options,
      // A quiesced group leaves the ticker, so thousands of idle groups cost no work per tick.
      onQuiesce: (quiesced) => {
        options.onQuiesce?.(quiesced);
        if (hosted === undefined || this.stoppedFlag || this.groups.get(groupId) !== hosted) return;
        if (quiesced && hosted.failedSnapshots.size === 0) this.ticker.remove(hosted);
        else if (!quiesced && !this.ticker.has(hosted)) this.ticker.add(hosted);
      },
      transport: {
        send: (to, messages) => this.enqueue(groupId, to, messages),
        quiesce: (to, term, commit) => this.enqueueQuiesce(groupId, to, term, commit),
        peerDown: (to) => this.downPeers.has(to),
      },
    });
    hosted = new HostedGroup(driver);
    this.groups.set(groupId, hosted);
    this.ticker.add(hosted);
    const waiting = this.parked.get(groupId);
    if (waiting !== undefined) {
      this.parked.delete(groupId);
      this.parkedCount -= waiting.length;
      for (const w of waiting) this.parkedBytes -= w.bytes;
      // After the caller has finished setting the group up.
      this.schedule(() => {
        if (this.stoppedFlag || this.groups.get(groupId) !== hosted) return;
        for (const { from, m } of waiting) this.deliver(from, groupId, m);
      });
    }
    return driver;
  }

  group(groupId: number): RaftDriver | undefined {
    return this.groups.get(groupId)?.driver;
  }

  /** Stops group `groupId` and forgets it; messages for it are dropped from now on. False if it was not hosted. */
  removeGroup(groupId: number): boolean {
    const hosted = this.groups.get(groupId);
    if (hosted === undefined) return false;
    this.groups.delete(groupId);
    this.ticker.remove(hosted);
    hosted.driver.stop();
    return true;
  }

  /** A copy of the counters, with the groups quiesced now. */
  stats(): MultiRaftStats {
    const stats = copyStats(this.counters);
    stats.groupsQuiesced = this.quiescedCount();
    return stats;
  }

  /** Groups hosted here that are quiesced now (a walk over the groups: for metrics, not hot paths). */
  quiescedCount(): number {
    let count = 0;
    for (const hosted of this.groups.values()) if (hosted.driver.quiesced) count++;
    return count;
  }

  /** Stops every group and drops what was buffered; later messages and flushes do nothing. Idempotent. */
  stop(): void {
    if (this.stoppedFlag) return;
    this.stoppedFlag = true;
    for (const groupId of [...this.groups.keys()]) this.removeGroup(groupId);
    this.outbox.take(this.channel.maxMessageBytes);
  }

  private enqueue(groupId: number, to: number, messages: readonly Message[]): void {
    if (this.stoppedFlag || messages.length === 0) return;
    // Thrown inside the driver's loop, this stops the group (a broken invariant of the core).
    assert(to !== this.brokerId, `group ${groupId} sent a message to its own broker ${to}`);
    this.outbox.add(groupId, to, messages);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  private enqueueQuiesce(groupId: number, to: number, term: number, commit: number): void {
    if (this.stoppedFlag) return;
    assert(to !== this.brokerId, `group ${groupId} sent a quiesce notice to its own broker ${to}`);
    this.outbox.addQuiesce(groupId, to, term, commit);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Sends everything buffered, then tells the groups what failed. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.stoppedFlag) return;
    const plans = this.outbox.take(this.channel.maxMessageBytes);
    if (plans.size === 0) return;
    this.counters.flushes++;
    // Reports run after every send, so a group reacting to one cannot reorder this flush's messages.
    const reports: (() => void)[] = [];
    for (const [peer, sends] of plans) {
      const unreachable = new Set<number>();
      for (const send of sends) {
        const outcome = this.sendOne(peer, send);
        if (send.snapshot) {
          const groupId = send.messages[0]!.groupId;
          if (outcome === 'sent') {
            reports.push(() => this.groups.get(groupId)?.driver.reportSnapshot(peer, true));
          } else {
            this.counters.snapshotsFailed++;
            const hosted = this.groups.get(groupId);
            if (hosted !== undefined) {
              hosted.failedSnapshots.add(peer);
              // Reported at its next tick, so it must be ticked even if it quiesced meanwhile.
              if (!this.ticker.has(hosted)) this.ticker.add(hosted);
            }
          }
        } else if (outcome !== 'sent') {
          for (const { groupId } of send.messages) unreachable.add(groupId);
          // A lost notice leaves a follower ticking; waking its leader has it quiesce (and notify) again.
          for (const groupId of send.quiesced) unreachable.add(groupId);
        }
      }
      for (const groupId of unreachable) reports.push(() => this.groups.get(groupId)?.driver.reportUnreachable(peer));
    }
    for (const report of reports) report();
  }

  private sendOne(peer: number, send: PlannedSend): 'sent' | 'dropped' | 'too-large' {
    const counters = peerCounters(this.counters, peer);
    let accepted: boolean;
    try {
      accepted = this.channel.send(peer, send.lane, { type: send.type, body: send.body });
    } catch (error) {
      if (!isStreamBusError(error, 'SB_ERR_PEER_MESSAGE')) throw error;
      this.counters.messagesTooLarge++;
      this.warn('messagesTooLarge', { peer, lane: send.lane, messages: send.messages.length, error: (error as Error).message }, 'raft message too large for the inter-broker transport, dropped');
      return 'too-large';
    }
    if (!accepted) {
      counters.batchesDropped++;
      this.counters.messagesDropped += send.messages.length;
      return 'dropped';
    }
    if (send.quiesced.length > 0) {
      counters.quiesceBatches++;
      this.counters.quiesceNoticesSent += send.quiesced.length;
    } else if (send.heartbeats) {
      counters.heartbeatBatches++;
      counters.heartbeatsCoalesced += send.messages.length;
      if (send.messages.some((q) => q.message.type === 'heartbeat')) counters.heartbeatRequestBatches++;
    } else {
      counters.messageBatches++;
    }
    for (const { message } of send.messages) {
      const c = this.counters.sent[message.type];
      c.messages++;
      c.payloadBytes += payloadBytes(message);
    }
    return 'sent';
  }

  private receive(from: number, message: ChannelMessage): void {
    if (this.stoppedFlag) return;
    if (message.type < RAFT_PEER_TYPE_MIN || message.type > RAFT_PEER_TYPE_MAX) return; // another layer's
    if (message.type === RAFT_PEER_TYPES.quiesce) {
      this.receiveQuiesce(from, message.body);
      return;
    }
    let decoded: GroupMessage[];
    try {
      if (message.type === RAFT_PEER_TYPES.heartbeats) decoded = decodeHeartbeats(message.body, from, this.brokerId);
      else if (message.type === RAFT_PEER_TYPES.messages) decoded = decodeGroupMessages(message.body);
      else throw new Error(`unknown raft transport message type ${message.type}`);
    } catch (error) {
      this.counters.decodeErrors++;
      this.warn('decodeErrors', { peer: from, type: message.type, error: error instanceof Error ? error.message : String(error) }, 'raft message from peer does not decode, dropped');
      return;
    }
    for (const { groupId, message: m } of decoded) this.deliver(from, groupId, m);
  }

  private receiveQuiesce(from: number, body: unknown): void {
    let notices: QuiesceNotice[];
    try {
      notices = decodeQuiesce(body);
    } catch (error) {
      this.counters.decodeErrors++;
      this.warn('decodeErrors', { peer: from, type: RAFT_PEER_TYPES.quiesce, error: error instanceof Error ? error.message : String(error) }, 'raft message from peer does not decode, dropped');
      return;
    }
    for (const { groupId, term, commit } of notices) {
      const hosted = this.groups.get(groupId);
      if (hosted === undefined) {
        this.counters.droppedUnknownGroup++;
        this.warn('droppedUnknownGroup', { peer: from, group: groupId, type: 'quiesce' }, 'raft message for a group this broker does not host, dropped');
        continue;
      }
      this.counters.quiesceNoticesReceived++;
      // A notice read after its sender was reported down (its two connections close in no set order,
      // so the loss of one may be reported while the other still holds unread notices) would put a
      // follower to sleep under a dead leader until that broker came back: it keeps ticking instead.
      if (this.downPeers.has(from) || !hosted.driver.quiesceNotice(from, term, commit)) this.counters.quiesceNoticesIgnored++;
    }
  }

  private deliver(from: number, groupId: number, m: Message): void {
    if (m.from !== from || m.to !== this.brokerId) {
      this.counters.droppedMisrouted++;
      this.warn('droppedMisrouted', { peer: from, group: groupId, from: m.from, to: m.to }, 'raft message addressed between other brokers, dropped');
      return;
    }
    const hosted = this.groups.get(groupId);
    if (hosted === undefined) {
      this.park(from, groupId, m);
      return;
    }
    const c = this.counters.received[m.type];
    c.messages++;
    c.payloadBytes += payloadBytes(m);
    hosted.driver.step(m);
  }

  /** Holds a message for a group not hosted here (see the header); the oldest goes when a limit is hit. */
  private park(from: number, groupId: number, m: Message): void {
    const bytes = payloadBytes(m);
    const full = this.parked.get(groupId);
    if (full !== undefined && full.length >= PARKED_PER_GROUP) this.unpark(groupId, full);
    let list = this.parked.get(groupId);
    if (this.parkedCount >= PARKED_MAX || this.parkedBytes + bytes > PARKED_MAX_BYTES) {
      this.dropUnknown(from, groupId, m.type);
      return;
    }
    if (list === undefined) {
      list = [];
      this.parked.set(groupId, list);
    }
    if (this.parkedCount === 0 && !this.ticker.has(this.parkSweeper)) this.ticker.add(this.parkSweeper);
    list.push({ from, m, tick: this.ticks, bytes });
    this.parkedCount++;
    this.parkedBytes += bytes;
    this.counters.parkedUnknownGroup++;
  }

  /** Drops the oldest message held for `groupId`. */
  private unpark(groupId: number, list: { from: number; m: Message; bytes: number }[]): void {
    const oldest = list.shift()!;
    this.parkedCount--;
    this.parkedBytes -= oldest.bytes;
    if (list.length === 0) this.parked.delete(groupId);
    this.dropUnknown(oldest.from, groupId, oldest.m.type);
  }

  private sweepParked(): void {
    this.ticks++;
    for (const [groupId, list] of this.parked) {
      while (list.length > 0 && this.ticks - list[0]!.tick > this.parkTicks) this.unpark(groupId, list);
    }
    if (this.parkedCount === 0) this.ticker.remove(this.parkSweeper);
  }

  private dropUnknown(from: number, groupId: number, type: string): void {
    this.counters.droppedUnknownGroup++;
    this.warn('droppedUnknownGroup', { peer: from, group: groupId, type }, 'raft message for a group this broker does not host, dropped');
  }

  private peerState(peer: number, state: PeerLinkState, restarted = true): void {
    if (this.stoppedFlag) return;
    if (state === 'down') {
      this.downPeers.add(peer);
      for (const hosted of [...this.groups.values()]) hosted.driver.reportUnreachable(peer);
      return;
    }
    if (!this.downPeers.delete(peer)) return;
    // A new process may be on a replaced disk: leaders forget what it acknowledged and probe it afresh
    // (raft.ts peerReconnected). The same process back (a congested link relieved, a reconnect) keeps
    // what it acknowledged. Either way quiesced leaders wake to catch it up, and quiesce again once it
    // holds their whole log.
    for (const hosted of [...this.groups.values()]) {
      if (restarted) hosted.driver.peerReconnected(peer);
      else hosted.driver.wakeLeader();
    }
  }

  /** Logs the 1st, 2nd, 4th, 8th, ... occurrence of each kind: a flood costs a logarithm of lines. */
  private warn(kind: 'messagesTooLarge' | 'decodeErrors' | 'droppedMisrouted' | 'droppedUnknownGroup', fields: Record<string, unknown>, text: string): void {
    const count = this.counters[kind];
    if (this.log === undefined || (count & (count - 1)) !== 0) return;
    this.log.warn({ ...fields, broker: this.brokerId, count }, text);
  }
}

function payloadBytes(m: Message): number {
  let total = m.snapshot === null ? 0 : m.snapshot.data.byteLength;
  for (let i = 0; i < m.entries.length; i++) total += m.entries[i]!.data.byteLength;
  return total;
}
