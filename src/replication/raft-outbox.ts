/**
 * What the Raft groups of one broker want to send, buffered per peer between two flushes, and how a
 * flush turns it into transport messages. Buffering lets a broker that leads a thousand groups send
 * its heartbeats to a peer as one message per tick instead of a thousand, and lets everything else
 * for one peer leave as a few messages per lane.
 *
 * Plan of one flush, per peer (raft-codec.ts has the layouts):
 * - control lane: one RAFT_HEARTBEATS message with every coalescible heartbeat and heartbeat response,
 *   then one RAFT_MESSAGES message with the votes, pre-votes, timeoutNow and responses, then one
 *   RAFT_QUIESCE message with the quiesce notices (last, so a group's notice follows its heartbeats);
 * - data lane: appends (empty ones too, so a group's appends stay in order) packed into RAFT_MESSAGES
 *   messages of at most `maxMessageBytes` (estimated), and each snapshot message alone, so its delivery can be reported to its group. Bulk never sits in
 *   front of a heartbeat or a vote because the lanes are separate connections.
 * Sizes are estimated from the payload plus a generous per-item allowance for MessagePack headers, so
 * a packed message stays under the channel's limit; a single message above it is still tried alone and
 * the channel refuses it if it really is too large.
 */
import type { Message } from '../raft/index.ts';
import { encodeGroupMessages, isCoalescibleHeartbeat, pushHeartbeat, pushQuiesce, RAFT_PEER_TYPES } from '../protocol/cluster/raft-codec.ts';
import { assert } from '../util/assert.ts';
import type { PeerLane } from './peer-channel.ts';

/** Upper bounds on the MessagePack bytes around the payload. */
const MESSAGE_HEADER_BYTES = 96;
const ENTRY_HEADER_BYTES = 32;
const MEMBER_BYTES = 5;
const RUN_HEADER_BYTES = 16;
/** The transport's framing around a body: its [type, body] pair. */
export const ENVELOPE_BYTES = 16;
const NO_GROUPS: readonly number[] = Object.freeze([]);

/** A message of a group, waiting in the outbox. */
export interface Queued {
  readonly groupId: number;
  readonly message: Message;
}

/** One transport message a flush sends, with what the multi-raft host needs to report its fate. */
export interface PlannedSend {
  readonly lane: PeerLane;
  readonly type: number;
  readonly body: unknown;
  /** The Raft messages it carries (coalesced heartbeats included), in order. */
  readonly messages: readonly Queued[];
  /** True for the message of a single snapshot. */
  readonly snapshot: boolean;
  /** True for a RAFT_HEARTBEATS message. */
  readonly heartbeats: boolean;
  /** The groups of a RAFT_QUIESCE message (empty for any other). */
  readonly quiesced: readonly number[];
}

/** Estimated encoded size of `m` (an upper bound for anything but pathological member lists). */
export function estimateBytes(m: Message): number {
  let total = MESSAGE_HEADER_BYTES;
  for (let i = 0; i < m.entries.length; i++) total += m.entries[i]!.data.byteLength + ENTRY_HEADER_BYTES;
  const s = m.snapshot;
  if (s !== null) total += s.data.byteLength + MESSAGE_HEADER_BYTES + MEMBER_BYTES * (s.metadata.confState.voters.length + s.metadata.confState.learners.length);
  return total;
}

class PeerQueue {
  readonly heartbeats: Queued[] = [];
  readonly control: Queued[] = [];
  readonly data: Queued[] = [];
  /** RAFT_QUIESCE body under construction, and its groups. */
  readonly quiesceBody: number[] = [];
  readonly quiesceGroups: number[] = [];
}

export class RaftOutbox {
  private peers = new Map<number, PeerQueue>();

  /** Buffers `messages` of group `groupId`, all addressed to broker `to`. */
  add(groupId: number, to: number, messages: readonly Message[]): void {
    const queue = this.queue(to);
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!;
      assert(message.to === to, `a message to ${message.to} handed over for ${to}`);
      const item = { groupId, message };
      if (isCoalescibleHeartbeat(message)) queue.heartbeats.push(item);
      else if (message.type === 'app' || message.type === 'snapshot') queue.data.push(item);
      else queue.control.push(item);
    }
  }

  /** Buffers the quiesce notice of group `groupId` (its leader's term and commit index) to broker `to`. */
  addQuiesce(groupId: number, to: number, term: number, commit: number): void {
    const queue = this.queue(to);
    pushQuiesce(queue.quiesceBody, groupId, term, commit);
    queue.quiesceGroups.push(groupId);
  }

  private queue(to: number): PeerQueue {
    let queue = this.peers.get(to);
    if (queue === undefined) {
      queue = new PeerQueue();
      this.peers.set(to, queue);
    }
    return queue;
  }

  /** Everything buffered, planned as transport messages per peer; the outbox is empty afterwards. */
  take(maxMessageBytes: number): Map<number, PlannedSend[]> {
    const peers = this.peers;
    this.peers = new Map();
    const out = new Map<number, PlannedSend[]>();
    for (const [peer, queue] of peers) out.set(peer, plan(queue, maxMessageBytes));
    return out;
  }
}

function plan(queue: PeerQueue, maxMessageBytes: number): PlannedSend[] {
  const sends: PlannedSend[] = [];
  if (queue.heartbeats.length > 0) {
    const body: number[] = [];
    for (const { groupId, message } of queue.heartbeats) pushHeartbeat(body, groupId, message);
    sends.push({ lane: 'control', type: RAFT_PEER_TYPES.heartbeats, body, messages: queue.heartbeats, snapshot: false, heartbeats: true, quiesced: NO_GROUPS });
  }
  if (queue.control.length > 0) sends.push(groupSend('control', queue.control, false));
  if (queue.quiesceGroups.length > 0) {
    sends.push({ lane: 'control', type: RAFT_PEER_TYPES.quiesce, body: queue.quiesceBody, messages: [], snapshot: false, heartbeats: false, quiesced: queue.quiesceGroups });
  }
  const budget = maxMessageBytes - ENVELOPE_BYTES;
  let bundle: Queued[] = [];
  let bundleBytes = 0;
  for (const item of queue.data) {
    if (item.message.type === 'snapshot') {
      sends.push(groupSend('data', [item], true));
      continue;
    }
    const bytes = estimateBytes(item.message) + RUN_HEADER_BYTES;
    if (bundle.length > 0 && bundleBytes + bytes > budget) {
      sends.push(groupSend('data', bundle, false));
      bundle = [];
      bundleBytes = 0;
    }
    bundle.push(item);
    bundleBytes += bytes;
  }
  if (bundle.length > 0) sends.push(groupSend('data', bundle, false));
  return sends;
}

/** A RAFT_MESSAGES send of `items`, consecutive messages of one group sharing a run. */
function groupSend(lane: PeerLane, items: readonly Queued[], snapshot: boolean): PlannedSend {
  const runs: { groupId: number; messages: Message[] }[] = [];
  for (const { groupId, message } of items) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.groupId === groupId) last.messages.push(message);
    else runs.push({ groupId, messages: [message] });
  }
  return { lane, type: RAFT_PEER_TYPES.messages, body: encodeGroupMessages(runs), messages: items, snapshot, heartbeats: false, quiesced: NO_GROUPS };
}
