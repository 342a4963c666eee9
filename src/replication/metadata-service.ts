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

/** Hands out the ids of blocks allocated with `submit`, one block at a time. */
export class ProducerIdBlocks {
  private next = 0n;
  private end = 0n;

  constructor(private readonly submit: (cmd: MetadataCommand) => Promise<MetadataResult>) {}

  async nextProducerId(): Promise<bigint> {
    if (this.next >= this.end) {
      const result = await this.submit({ type: 'allocate-producer-ids', count: PRODUCER_ID_BLOCK });
      if (result.error !== null || result.firstProducerId === undefined) {
        throw new Error(`producer ids could not be allocated: ${result.message ?? result.error}`);
      }
      // Another caller may have allocated meanwhile; either block is fresh.
      this.next = result.firstProducerId;
      this.end = this.next + BigInt(PRODUCER_ID_BLOCK);
    }
    return this.next++;
  }
}
