/**
 * Leadership gossip: every broker tells every peer which Raft groups it leads, so that any broker can
 * answer a Kafka client's Metadata request for partitions it does not replicate. docs/replication.md,
 * "Leadership gossip"; the body layout is in src/protocol/cluster/leadership-codec.ts (type 48).
 *
 * A broker only ever speaks for itself: every entry of a digest received from broker `from` is recorded
 * with `from` as its leader, so a confused or stale broker cannot name another as leader. A full digest
 * also steps `from` down from the groups recorded as led by it that it no longer lists.
 *
 * When: a full digest goes to every peer at each tick() (the owner's timer; this repairs anything the
 * best-effort channel dropped), once per scheduling turn after changed(), and to a peer at once when
 * its link comes up. The digest is also applied to this broker's own table, as if received from itself,
 * so the table answers for every broker including this one.
 *
 * Bodies that do not decode are counted, logged with rate limiting and dropped; nothing thrown escapes
 * the channel's handler. Deterministic: no clock, no randomness; when a coalesced send runs is up to
 * the injected `schedule`.
 */
import { BROKER_ID_MAX, decodeDigest, GROUP_ID_MAX, ISR_LENGTH_MAX, LEADERSHIP_DIGEST_TYPE, splitFullDigest, type DigestEntry, type LeadershipDigest } from '../protocol/cluster/leadership-codec.ts';
import { assert } from '../util/assert.ts';
import { isStreamBusError } from '../util/errors.ts';
import type { LeadershipTable } from './leadership-table.ts';
import type { ChannelMessage, PeerChannel, PeerLinkState } from './peer-channel.ts';

/** The one method of a logger the gossip uses (pino's satisfies it). */
export interface LeadershipGossipLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface LeadershipGossipOptions {
  /** This broker: the leader of every group `led()` lists. */
  readonly brokerId: number;
  readonly channel: Pick<PeerChannel, 'send' | 'onMessage' | 'onPeerState' | 'maxMessageBytes'>;
  readonly table: LeadershipTable;
  /** The groups this broker leads now, each once, with its term and ISR. */
  readonly led: () => Iterable<DigestEntry>;
  /** The ids of the other brokers of the cluster. */
  readonly peers: () => readonly number[];
  /** Runs `fn` later, once per call, after the current synchronous work (default: queueMicrotask). */
  readonly schedule?: (fn: () => void) => void;
  readonly log?: LeadershipGossipLog;
}

export interface LeadershipGossipStats {
  /** Digest messages the channel accepted. */
  messagesSent: number;
  /** Digest messages the channel dropped (send() returned false); the next tick repairs them. */
  messagesDropped: number;
  /** Digest messages the channel refused as too large (a bug in the size estimate). */
  messagesTooLarge: number;
  /** Digest messages received that decoded. */
  messagesReceived: number;
  /** Digest messages received that did not decode, dropped. */
  decodeErrors: number;
}

export class LeadershipGossip {
  private readonly brokerId: number;
  private readonly channel: LeadershipGossipOptions['channel'];
  private readonly table: LeadershipTable;
  private readonly led: () => Iterable<DigestEntry>;
  private readonly peers: () => readonly number[];
  private readonly schedule: (fn: () => void) => void;
  private readonly log: LeadershipGossipLog | undefined;
  private readonly counters: LeadershipGossipStats = { messagesSent: 0, messagesDropped: 0, messagesTooLarge: 0, messagesReceived: 0, decodeErrors: 0 };
  private sendScheduled = false;
  private stoppedFlag = false;

  constructor(options: LeadershipGossipOptions) {
    assert(Number.isSafeInteger(options.brokerId) && options.brokerId >= 1 && options.brokerId <= BROKER_ID_MAX, `broker id must be 1..2^31-1, got ${options.brokerId}`);
    this.brokerId = options.brokerId;
    this.channel = options.channel;
    this.table = options.table;
    this.led = options.led;
    this.peers = options.peers;
    this.schedule = options.schedule ?? ((fn) => queueMicrotask(fn));
    this.log = options.log;
    // Fails at startup rather than at the first send when the channel cannot carry one entry.
    splitFullDigest([], this.channel.maxMessageBytes);
    this.channel.onMessage((from, message) => this.receive(from, message));
    this.channel.onPeerState((peer, state) => this.peerState(peer, state));
  }

  get stats(): Readonly<LeadershipGossipStats> {
    return { ...this.counters };
  }

  /** Something this broker leads changed: a full digest goes to every peer once this turn ends. */
  changed(): void {
    if (this.stoppedFlag || this.sendScheduled) return;
    this.sendScheduled = true;
    this.schedule(() => {
      this.sendScheduled = false;
      if (!this.stoppedFlag) this.broadcast();
    });
  }

  /** The owner's timer: a full digest to every peer now. */
  tick(): void {
    if (this.stoppedFlag) return;
    this.broadcast();
  }

  /** Sends and receives nothing from now on; the channel keeps the handlers, which then do nothing. */
  stop(): void {
    this.stoppedFlag = true;
  }

  private broadcast(): void {
    const bodies = this.digest();
    for (const peer of this.peers()) {
      assert(peer !== this.brokerId, `broker ${this.brokerId} lists itself among its peers`);
      this.sendAll(peer, bodies);
    }
  }

  /** This broker's full digest as message bodies, applied to its own table on the way. */
  private digest(): unknown[][] {
    const entries: DigestEntry[] = [];
    const seen = new Set<number>();
    for (const e of this.led()) {
      assert(Number.isSafeInteger(e.groupId) && e.groupId >= 0 && e.groupId <= GROUP_ID_MAX, `group id must be 0..2^31-1, got ${e.groupId}`);
      assert(!seen.has(e.groupId), `led() lists group ${e.groupId} twice`);
      assert(e.isr.length <= ISR_LENGTH_MAX, `group ${e.groupId}: ISR of ${e.isr.length} brokers`);
      seen.add(e.groupId);
      entries.push(e);
    }
    this.apply(this.brokerId, { full: true, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries });
    return splitFullDigest(entries, this.channel.maxMessageBytes);
  }

  private sendAll(peer: number, bodies: readonly unknown[][]): void {
    for (const body of bodies) {
      let accepted: boolean;
      try {
        accepted = this.channel.send(peer, 'control', { type: LEADERSHIP_DIGEST_TYPE, body });
      } catch (error) {
        if (!isStreamBusError(error, 'SB_ERR_PEER_MESSAGE')) throw error;
        this.counters.messagesTooLarge++;
        this.warn('messagesTooLarge', { peer, error: (error as Error).message }, 'leadership digest too large for the inter-broker transport, dropped');
        continue;
      }
      if (accepted) this.counters.messagesSent++;
      else this.counters.messagesDropped++;
    }
  }

  private receive(from: number, message: ChannelMessage): void {
    if (this.stoppedFlag || message.type !== LEADERSHIP_DIGEST_TYPE) return; // another layer's
    let digest: LeadershipDigest;
    try {
      digest = decodeDigest(message.body);
    } catch (error) {
      this.counters.decodeErrors++;
      this.warn('decodeErrors', { peer: from, error: error instanceof Error ? error.message : String(error) }, 'leadership digest from peer does not decode, dropped');
      return;
    }
    this.counters.messagesReceived++;
    this.apply(from, digest);
  }

  /** Records `digest` as spoken by broker `from` (see the header). */
  private apply(from: number, digest: LeadershipDigest): void {
    this.table.batch(() => {
      for (const e of digest.entries) this.table.observe(e.groupId, from, e.term, e.isr);
      if (!digest.full) return;
      const listed = new Set(digest.entries.map((e) => e.groupId));
      for (const groupId of this.table.ledBy(from)) {
        if (groupId < digest.firstGroupId || groupId > digest.lastGroupId || listed.has(groupId)) continue;
        this.table.stepDown(groupId, from, this.table.get(groupId)!.term);
      }
    });
  }

  private peerState(peer: number, state: PeerLinkState): void {
    if (this.stoppedFlag || state !== 'up') return;
    this.sendAll(peer, this.digest());
  }

  /** Logs the 1st, 2nd, 4th, 8th, ... occurrence of each kind: a flood costs a logarithm of lines. */
  private warn(kind: 'messagesTooLarge' | 'decodeErrors', fields: Record<string, unknown>, text: string): void {
    const count = this.counters[kind];
    if (this.log === undefined || (count & (count - 1)) !== 0) return;
    this.log.warn({ ...fields, broker: this.brokerId, count }, text);
  }
}
