/**
 * The values the Raft core exchanges with its driver and with its peers: log entries, the durable
 * hard state, snapshots and peer messages.
 *
 * Ownership: every value here is immutable once built. The core never mutates a message or entry it
 * received, and the driver must not mutate what the core handed out (entries are shared between the
 * unstable log, storage, outgoing messages and committed-entry lists without copying). A transport
 * that delivers the same message object twice, or to several nodes, is therefore safe.
 */

/** A member of a Raft group. Positive integers; 0 (`NO_NODE`) means "nobody". */
export type NodeId = number;
export const NO_NODE: NodeId = 0;

/**
 * Entry types. The number is part of the persisted format: storage adapters write it as is.
 * Normal entries carry opaque application bytes (an empty payload is the leader's no-op entry);
 * conf-change entries carry an encoded `ConfChange` (see conf-change.ts) that the core itself applies.
 */
export const EntryType = { Normal: 0, ConfChange: 1 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. `index` starts at 1; `term` is the leader's term when it was appended. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/**
 * The state that must be durable before any message of the same Ready is sent:
 * the current term, whom this node voted for in it, and the commit index it knows of.
 */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NO_NODE, commit: 0 };

/** Group membership: voters count for elections and commitment; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Where a snapshot sits in the log and the membership in force at that point. */
export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** The application state up to and including `metadata.index`, as opaque bytes. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/**
 * Peer message kinds (Raft paper names in brackets):
 * - `app` [AppendEntries]: `index`/`logTerm` name the entry before `entries`; `commit` is the leader's commit.
 * - `appResp`: success with `index` = last index now known to match; or `reject` for `index`, with
 *   `rejectHint`/`logTerm` pointing at the follower's last entry whose term is <= the probed term
 *   (fast backtracking).
 * - `heartbeat` / `heartbeatResp`: leader liveness; `commit` = min(follower match, leader commit).
 * - `vote` / `voteResp` [RequestVote], `preVote` / `preVoteResp`: `index`/`logTerm` describe the
 *   candidate's last entry. Pre-votes are sent with the term the candidate would campaign in.
 * - `snapshot` [InstallSnapshot]: carries `snapshot`.
 * - `timeoutNow`: tells the leadership-transfer target to campaign at once.
 */
export type MessageType =
  | 'app'
  | 'appResp'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'snapshot'
  | 'timeoutNow';

/**
 * A peer message. Every field is always present (one object shape, which also keeps the core's
 * property access monomorphic); fields a kind does not use are 0, false, empty or null.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly snapshot: Snapshot | null;
  /** On vote requests: the campaign follows a leadership transfer, so it may disturb a live leader. */
  readonly leaderTransfer: boolean;
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/** Builds a message with every unset field at its neutral value. */
export function message(fields: Partial<Message> & Pick<Message, 'type' | 'from' | 'to' | 'term'>): Message {
  return {
    type: fields.type,
    from: fields.from,
    to: fields.to,
    term: fields.term,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    snapshot: fields.snapshot ?? null,
    leaderTransfer: fields.leaderTransfer ?? false,
  };
}

/** Bytes an entry is charged for in message and in-flight limits: its payload plus a fixed header. */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export function isResponse(type: MessageType): boolean {
  return type === 'appResp' || type === 'heartbeatResp' || type === 'voteResp' || type === 'preVoteResp';
}
