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
