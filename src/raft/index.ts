/**
 * The public surface of the Raft core: what src/replication drives. Everything else in this
 * folder is internal and may change without notice.
 */
export { RaftNode } from './raft-node.ts';
export type { TransferResult } from './raft-node.ts';
export type { ProposeResult, RefusalReason } from './raft.ts';
export type { RaftConfig, SendBudget } from './config.ts';
export {
  DEFAULT_ELECTION_TICKS,
  DEFAULT_HEARTBEAT_TICKS,
  DEFAULT_MAX_APPLY_BYTES,
  DEFAULT_MAX_INFLIGHT_BYTES,
  DEFAULT_MAX_INFLIGHT_MESSAGES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_UNCOMMITTED_BYTES,
} from './config.ts';
export type { Ready, Role, SoftState } from './ready.ts';
export type { Status, PeerStatus } from './status.ts';
export type { ProgressState } from './progress.ts';
export { EntryType, NO_NODE, EMPTY_HARD_STATE, ENTRY_OVERHEAD_BYTES, entryBytes, message } from './messages.ts';
export type { ConfState, Entry, HardState, Message, MessageType, NodeId, Snapshot, SnapshotMetadata } from './messages.ts';
export { applyConfChange, confChangeProblem, decodeConfChange, encodeConfChange, CONF_CHANGE_BYTES } from './conf-change.ts';
export type { ConfChange, ConfChangeType } from './conf-change.ts';
export type { LogStorage } from './storage.ts';
export { MemoryStorage } from './memory-storage.ts';
export { LogCompactedError, LogNotLoadedError, LogUnavailableError } from './errors.ts';
export type { Random } from './random.ts';
