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
 * its link comes up. changedGroups(ids) sends only those groups, once per scheduling turn: a partial
 * digest with the ones led here, and for each one this broker announced and no longer leads a full
 * digest of the range of that one group id (which steps the sender down from it and from nothing
 * else). A broker whose thousand groups change leadership one election at a time would otherwise
 * build, send and apply a full digest of every group it leads per election: quadratic work that
 * kept a 3,000-partition broker's event loop saturated through a failover. Whatever is sent is also
 * applied to this broker's own table, as if received from itself, so the table answers for every
 * broker including this one.
 *
 * Bodies that do not decode are counted, logged with rate limiting and dropped; nothing thrown escapes
 * the channel's handler. Deterministic: no clock, no randomness; when a coalesced send runs is up to
 * the injected `schedule`.
 */
import { BROKER_ID_MAX, decodeDigest, encodeDigest, GROUP_ID_MAX, ISR_LENGTH_MAX, LEADERSHIP_DIGEST_TYPE, splitFullDigest, splitPartialDigest, type DigestEntry, type LeadershipDigest } from '../protocol/cluster/leadership-codec.ts';
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
  /** Group `groupId` as led() would list it, or null when this broker does not lead it. Without it, changedGroups() sends full digests. */
  readonly ledEntry?: (groupId: number) => DigestEntry | null;
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
  private readonly ledEntry: ((groupId: number) => DigestEntry | null) | undefined;
  private readonly peers: () => readonly number[];
  private readonly schedule: (fn: () => void) => void;
  private readonly log: LeadershipGossipLog | undefined;
  private readonly counters: LeadershipGossipStats = { messagesSent: 0, messagesDropped: 0, messagesTooLarge: 0, messagesReceived: 0, decodeErrors: 0 };
  private sendScheduled = false;
  /** A full digest is due at the scheduled send. */
  private fullPending = false;
  /** Groups changedGroups() named since the last send. */
  private readonly dirty = new Set<number>();
  /** The groups this broker last told its peers it leads. */
  private announced = new Set<number>();
  private stoppedFlag = false;

  constructor(options: LeadershipGossipOptions) {
    assert(Number.isSafeInteger(options.brokerId) && options.brokerId >= 1 && options.brokerId <= BROKER_ID_MAX, `broker id must be 1..2^31-1, got ${options.brokerId}`);
    this.brokerId = options.brokerId;
    this.channel = options.channel;
    this.table = options.table;
    this.led = options.led;
    this.ledEntry = options.ledEntry;
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
    if (this.stoppedFlag) return;
    this.fullPending = true;
    this.scheduleSend();
  }

  /**
   * The leadership or ISR of groups `groupIds` here changed: once this turn ends, those led here go to
   * every peer in a partial digest, and those announced before and no longer led are stepped down
   * (see the header). A full digest when the owner gave no `ledEntry`.
   */
  changedGroups(groupIds: Iterable<number>): void {
    if (this.stoppedFlag) return;
    if (this.ledEntry === undefined) {
      this.changed();
      return;
    }
    for (const groupId of groupIds) this.dirty.add(groupId);
    if (this.dirty.size > 0) this.scheduleSend();
  }

  private scheduleSend(): void {
    if (this.sendScheduled) return;
    this.sendScheduled = true;
    this.schedule(() => {
      this.sendScheduled = false;
      if (this.stoppedFlag) return;
      if (this.fullPending) this.broadcast();
      else this.broadcastChanges();
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
    // A full digest covers whatever changed before it.
    this.fullPending = false;
    this.dirty.clear();
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
    this.announced = seen;
    return splitFullDigest(entries, this.channel.maxMessageBytes);
  }

  /** The groups changedGroups() named, to every peer: work in proportion to them, not to every group led here. */
  private broadcastChanges(): void {
    const ledEntry = this.ledEntry!;
    const entries: DigestEntry[] = [];
    const bodies: unknown[][] = [];
    for (const groupId of this.dirty) {
      const e = ledEntry(groupId);
      if (e !== null) {
        assert(e.groupId === groupId, `ledEntry(${groupId}) answered group ${e.groupId}`);
        assert(e.isr.length <= ISR_LENGTH_MAX, `group ${e.groupId}: ISR of ${e.isr.length} brokers`);
        entries.push(e);
        this.announced.add(groupId);
      } else if (this.announced.delete(groupId)) {
        const stepDown: LeadershipDigest = { full: true, firstGroupId: groupId, lastGroupId: groupId, entries: [] };
        this.apply(this.brokerId, stepDown);
        bodies.push(encodeDigest(stepDown));
      }
    }
    this.dirty.clear();
    if (entries.length > 0) {
      this.apply(this.brokerId, { full: false, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries });
      bodies.push(...splitPartialDigest(entries, this.channel.maxMessageBytes));
    }
    if (bodies.length === 0) return;
    for (const peer of this.peers()) {
      assert(peer !== this.brokerId, `broker ${this.brokerId} lists itself among its peers`);
      this.sendAll(peer, bodies);
    }
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
      const span = digest.lastGroupId - digest.firstGroupId + 1;
      if (span <= this.table.ledByCount(from)) {
        // A narrow range (a single group stepped down): look at its ids rather than at every group of `from`.
        for (let groupId = digest.firstGroupId; groupId <= digest.lastGroupId; groupId++) {
          const entry = this.table.get(groupId);
          if (entry === undefined || entry.leader !== from || listed.has(groupId)) continue;
          this.table.stepDown(groupId, from, entry.term);
        }
        return;
      }
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
