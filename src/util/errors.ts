/**
 * Operating errors: typed, stable `code` (SB_ERR_*), and the original `cause` kept. Callers and
 * operators match on `code`, never on message text. docs/errors.md documents every code; a test
 * checks that each code here is unique and documented.
 */
export const ERROR_CODES = {
  SB_ERR_CONFIG: 'configuration file or value is invalid',
  SB_ERR_IO: 'an I/O operation failed (carries errno and path)',
  SB_ERR_DISK_FULL: 'no space left on the device; appends refused until space returns',
  SB_ERR_LOG_DIR_OFFLINE: 'a log directory was taken offline after an fsync or I/O error',
  SB_ERR_CORRUPT: 'stored data failed validation (CRC or length) at a named file and position',
  SB_ERR_PROTOCOL: 'bytes on the wire do not follow the Kafka protocol',
  SB_ERR_FRAME_TOO_LARGE: 'a frame is larger than the configured maximum',
  SB_ERR_UNSUPPORTED_VERSION: 'an API version is not supported',
  SB_ERR_NATIVE_UNAVAILABLE: 'the native I/O addon could not be loaded',
  SB_ERR_INVALID_BATCH: 'a record batch is malformed',
  SB_ERR_OFFSET_OUT_OF_RANGE: 'an offset lies outside the log',
  SB_ERR_NOT_LEADER: 'this broker does not lead the partition (now): the client retries against the current leader',
  SB_ERR_NOT_ENOUGH_REPLICAS: 'a partition leader cannot replicate a write now (its followers are too far behind)',
  SB_ERR_RECORD_TOO_LARGE: 'a record batch is larger than the partition accepts',
  SB_ERR_INVALID_PRODUCER_EPOCH: 'a transaction marker names an older epoch than the producer already wrote with (a fenced producer\'s transaction)',
  SB_ERR_CLOSED: 'the resource is closed',
  SB_ERR_RAFT_LOG_COMPACTED: 'a Raft log read asked for an index that was compacted into a snapshot',
  SB_ERR_RAFT_LOG_UNAVAILABLE: 'a Raft log read asked for an index past the last stored entry',
  SB_ERR_RAFT_LOG_NOT_LOADED: 'a Raft log read asked for entries that are on disk but not in memory; loading has started',
  SB_ERR_RAFT_INCONSISTENT_OFFSET: 'a partition Raft entry does not start at the partition log\'s end offset (two batches would share an offset)',
  SB_ERR_RAFT_PROPOSAL_REFUSED: 'a Raft group refused a proposal at once (not the leader, a transfer running, too much uncommitted); nothing was appended',
  SB_ERR_RAFT_PROPOSAL_LOST: 'a Raft group accepted a proposal but did not apply it (overwritten, leadership lost, or the group stopped)',
  SB_ERR_KAFKA: 'a broker answered a client request with a Kafka error code (carries the code and its name)',
  SB_ERR_PEER_PROTOCOL: 'bytes from another broker do not follow the inter-broker protocol',
  SB_ERR_BROKER_IDENTITY: 'the broker\'s directories do not hold one consistent identity (a replaced disk, a directory of another broker)',
  SB_ERR_CONTROLLER_LOG: 'an entry or snapshot of the controller\'s Raft log does not decode (a broken log, or one written by a newer version)',
  SB_ERR_PEER_MESSAGE: 'a message handed to the inter-broker transport cannot be sent (not plain data, or too large)',
  SB_ERR_SASL: 'a client sent a request its SASL state does not allow (before authenticating, or after its session expired)',
  SB_ERR_BACKUP: 'a backup cannot be made, read or restored (a manifest that does not decode, a chain with a missing part, a data directory that is not empty)',
  SB_ERR_NOT_FOUND: 'an administrative request names a topic, group, broker or route that does not exist',
  SB_ERR_CONFLICT: 'an administrative change conflicts with the current state (the topic exists, the group has members)',
  SB_ERR_INVALID_REQUEST: 'an administrative request is malformed (bad JSON, a missing or wrong field, a body too large)',
  SB_ERR_UNAUTHENTICATED: 'an admin API request carries no credentials the broker accepts while authentication is on',
  SB_ERR_FORBIDDEN: 'an authenticated admin API caller is not allowed the operation by the ACLs',
  SB_ERR_UNAVAILABLE: 'the admin API cannot answer now (too many requests in flight, the broker not serving yet)',
  SB_ERR_TENANT: 'with multi-tenancy, a connection has no tenant, or its tenant is at its maxConnections quota',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class StreamBusError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamBusError';
    this.code = code;
  }
}

/** An I/O failure with the errno name (ENOSPC, EIO, ...) and the path it concerns. */
export class IoError extends StreamBusError {
  readonly errno: string;
  readonly path: string;
  constructor(errno: string, path: string, message: string, options?: { cause?: unknown }) {
    super(errno === 'ENOSPC' ? 'SB_ERR_DISK_FULL' : 'SB_ERR_IO', `${message}: ${errno} (${path})`, options);
    this.name = 'IoError';
    this.errno = errno;
    this.path = path;
  }
}

/**
 * A size prefix that no frame may carry: SB_ERR_FRAME_TOO_LARGE above the maximum, SB_ERR_PROTOCOL
 * below the minimum (a negative size included). Carries the size read and the limits it broke.
 */
export class FrameSizeError extends StreamBusError {
  readonly size: number;
  readonly minFrameBytes: number;
  readonly maxFrameBytes: number;
  constructor(size: number, minFrameBytes: number, maxFrameBytes: number) {
    const tooLarge = size > maxFrameBytes;
    super(
      tooLarge ? 'SB_ERR_FRAME_TOO_LARGE' : 'SB_ERR_PROTOCOL',
      tooLarge
        ? `frame of ${size} bytes exceeds the maximum of ${maxFrameBytes}`
        : size < 0
          ? `negative frame size ${size}`
          : `frame of ${size} bytes is below the minimum of ${minFrameBytes}`,
    );
    this.name = 'FrameSizeError';
    this.size = size;
    this.minFrameBytes = minFrameBytes;
    this.maxFrameBytes = maxFrameBytes;
  }
}

export function isStreamBusError(e: unknown, code?: ErrorCode): e is StreamBusError {
  return e instanceof StreamBusError && (code === undefined || e.code === code);
}
