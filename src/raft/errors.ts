import { StreamBusError } from '../util/errors.ts';

/**
 * Thrown by a LogStorage read for an index below its first retained entry (minus one, whose term
 * the snapshot keeps). The core answers it by sending a snapshot; it is never fatal.
 */
export class LogCompactedError extends StreamBusError {
  readonly index: number;
  readonly firstIndex: number;
  constructor(index: number, firstIndex: number) {
    super('SB_ERR_RAFT_LOG_COMPACTED', `raft log index ${index} is compacted (first retained index ${firstIndex})`);
    this.name = 'LogCompactedError';
    this.index = index;
    this.firstIndex = firstIndex;
  }
}

/** Thrown by a LogStorage read for an index past its last stored entry. */
export class LogUnavailableError extends StreamBusError {
  readonly index: number;
  readonly lastIndex: number;
  constructor(index: number, lastIndex: number) {
    super('SB_ERR_RAFT_LOG_UNAVAILABLE', `raft log index ${index} is unavailable (last index ${lastIndex})`);
    this.name = 'LogUnavailableError';
    this.index = index;
    this.lastIndex = lastIndex;
  }
}

/**
 * Thrown by a LogStorage read for entries it holds but cannot answer synchronously: they are on
 * disk, not in memory (a storage that caches the recent log over asynchronous files). The storage
 * has started loading them when it throws, and tells its owner when they are in memory (the owner
 * then calls RawNode.storageLoaded()). The core treats it as "not now": a leader sends nothing to
 * that follower this round, the apply path hands out nothing until the load is done, an election
 * waits. It is never fatal and never leads to a snapshot.
 */
export class LogNotLoadedError extends StreamBusError {
  readonly index: number;
  constructor(index: number) {
    super('SB_ERR_RAFT_LOG_NOT_LOADED', `raft log index ${index} is on disk and being loaded`);
    this.name = 'LogNotLoadedError';
    this.index = index;
  }
}
