/**
 * Counters of a multi-raft host (multi-raft.ts), kept as plain numbers so that reading them is
 * free and a test can assert exact values. "Payload bytes" are entry and snapshot data bytes, which
 * is what the network mostly carries; headers are not counted.
 */
import type { MessageType } from '../raft/index.ts';
import { WIRE_MESSAGE_TYPES } from '../protocol/cluster/raft-codec.ts';

export interface TypeCounters {
  messages: number;
  payloadBytes: number;
}

export interface PeerCounters {
  /** RAFT_HEARTBEATS transport messages sent to this peer. */
  heartbeatBatches: number;
  /** Those of them that carried at least one heartbeat request (this broker leads a group). */
  heartbeatRequestBatches: number;
  /** Heartbeats and heartbeat responses that rode in them. */
  heartbeatsCoalesced: number;
  /** RAFT_MESSAGES transport messages sent to this peer. */
  messageBatches: number;
  /** RAFT_QUIESCE transport messages sent to this peer. */
  quiesceBatches: number;
  /** Transport messages the channel dropped (send() returned false). */
  batchesDropped: number;
}

export interface MultiRaftStats {
  /** Raft messages handed to the channel (accepted by send()), per type. */
  readonly sent: Record<MessageType, TypeCounters>;
  /** Raft messages decoded and delivered to a group of this broker, per type. */
  readonly received: Record<MessageType, TypeCounters>;
  /** Per peer broker id. */
  readonly peers: Record<number, PeerCounters>;
  /** Flushes of the outbox that had something to send. */
  flushes: number;
  /** Raft messages in transport messages the channel dropped (send() returned false). */
  messagesDropped: number;
  /** Transport messages the channel refused as too large; their groups were told. */
  messagesTooLarge: number;
  /** Snapshot messages that could not be handed to the channel (dropped or too large); reported at the group's next tick. */
  snapshotsFailed: number;
  /** Incoming messages for a group this broker does not host, dropped (not added within the park time, or past the park limits). */
  droppedUnknownGroup: number;
  /** Incoming messages for a group not hosted when they came, held for it (some later dropped, counted above). */
  parkedUnknownGroup: number;
  /** Incoming messages not from the sending broker or not to this one. */
  droppedMisrouted: number;
  /** Incoming transport messages of a Raft type whose body did not decode; all of it was dropped. */
  decodeErrors: number;
  /** Quiesce notices handed to the channel (accepted by send()). */
  quiesceNoticesSent: number;
  /** Quiesce notices received for a group hosted here. */
  quiesceNoticesReceived: number;
  /** Of those, the ones the group ignored (not a caught-up follower of the sender in its term). */
  quiesceNoticesIgnored: number;
  /** Groups hosted here that are quiesced, when stats() was called. */
  groupsQuiesced: number;
}

function perType(): Record<MessageType, TypeCounters> {
  const out = {} as Record<MessageType, TypeCounters>;
  for (const type of WIRE_MESSAGE_TYPES) out[type] = { messages: 0, payloadBytes: 0 };
  return out;
}

export function emptyStats(): MultiRaftStats {
  return {
    sent: perType(),
    received: perType(),
    peers: {},
    flushes: 0,
    messagesDropped: 0,
    messagesTooLarge: 0,
    snapshotsFailed: 0,
    droppedUnknownGroup: 0,
    parkedUnknownGroup: 0,
    droppedMisrouted: 0,
    decodeErrors: 0,
    quiesceNoticesSent: 0,
    quiesceNoticesReceived: 0,
    quiesceNoticesIgnored: 0,
    groupsQuiesced: 0,
  };
}

export function peerCounters(stats: MultiRaftStats, peer: number): PeerCounters {
  let counters = stats.peers[peer];
  if (counters === undefined) {
    counters = { heartbeatBatches: 0, heartbeatRequestBatches: 0, heartbeatsCoalesced: 0, messageBatches: 0, quiesceBatches: 0, batchesDropped: 0 };
    stats.peers[peer] = counters;
  }
  return counters;
}

/** A deep copy, so a caller keeps a snapshot of the counters that later traffic does not change. */
export function copyStats(stats: MultiRaftStats): MultiRaftStats {
  return structuredClone(stats);
}
