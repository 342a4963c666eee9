/**
 * The cluster metadata as the rest of the broker uses it: read the applied state, submit commands,
 * hear about applied changes, draw producer ids. A single broker keeps it in a snapshot file
 * (metadata-store.ts); a cluster replicates it through the controller's Raft group
 * (controller/replicated-metadata.ts). Either way `submit` resolves once the command is applied here,
 * so the caller reads its effect from `state` right after.
 */
import type { ClusterState, MetadataCommand, MetadataResult } from '../metadata/cluster-state.ts';

export interface MetadataService {
  /** The applied state. Read it anew each time: a replicated service may replace the object. */
  readonly state: ClusterState;
  /**
   * Applies one command; commands apply in one order everywhere, each seeing the previous one's effect.
   * `timeoutMs` bounds the wait for a replicated controller (a Kafka request's timeout_ms); past it the
   * answer is REQUEST_TIMED_OUT.
   */
  submit(cmd: MetadataCommand, timeoutMs?: number): Promise<MetadataResult>;
  /** Called after every applied command that succeeded, in order. */
  onChange(listener: (cmd: MetadataCommand) => void): void;
  /** A producer id never handed out before, cluster-wide. */
  nextProducerId(): Promise<bigint>;
}

/** Producer ids are drawn from blocks allocated through metadata, so none is ever reused, even after a crash. */
export const PRODUCER_ID_BLOCK = 1000;
/** The next block is allocated ahead once fewer ids than this are left, so producers rarely wait for the controller. */
export const PRODUCER_ID_PREFETCH_AT = 100;
/**
 * How long an InitProducerId waits for a block. Well inside clients' request timeouts (30 s): a
 * client told COORDINATOR_LOAD_IN_PROGRESS retries at once, one left waiting times its messages out.
 */
export const PRODUCER_ID_ALLOCATE_TIMEOUT_MS = 5_000;

/**
 * Hands out the ids of blocks allocated with `submit`, one block at a time, allocating the next one
 * ahead of need. One allocation at a time: concurrent callers share it.
 */
export class ProducerIdBlocks {
  private next = 0n;
  private end = 0n;
  /** First id of a block allocated ahead, not yet in use. */
  private spare: bigint | null = null;
  private allocating: Promise<void> | null = null;

  constructor(private readonly submit: (cmd: MetadataCommand, timeoutMs: number) => Promise<MetadataResult>) {}

  /** A fresh id; throws (retriable for the client) when no block could be allocated in time. */
  async nextProducerId(): Promise<bigint> {
    while (this.next >= this.end) {
      if (this.spare !== null) {
        this.next = this.spare;
        this.end = this.spare + BigInt(PRODUCER_ID_BLOCK);
        this.spare = null;
      } else {
        await this.allocateSpare();
      }
    }
    const id = this.next++;
    if (this.spare === null && this.end - this.next < BigInt(PRODUCER_ID_PREFETCH_AT)) this.allocateSpare().catch(() => undefined);
    return id;
  }

  private allocateSpare(): Promise<void> {
    this.allocating ??= this.submit({ type: 'allocate-producer-ids', count: PRODUCER_ID_BLOCK }, PRODUCER_ID_ALLOCATE_TIMEOUT_MS)
      .then((result) => {
        if (result.error !== null || result.firstProducerId === undefined) {
          throw new Error(`producer ids could not be allocated: ${result.message ?? result.error}`);
        }
        this.spare = result.firstProducerId;
      })
      .finally(() => (this.allocating = null));
    return this.allocating;
  }
}
