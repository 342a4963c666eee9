/**
 * Goal: deliberately broken controllers, so that the cluster simulation's checkers can be shown
 * to catch real classes of bugs (controller-checkers-catch-bugs.test.ts).
 * Method: subclasses of the production classes that change one decision each; the simulation
 * builds them instead of the production ones when a bug switch is on.
 */
import type { MetadataCommand, MetadataResult } from '../../src/metadata/cluster-state.ts';
import { EntryType, type Entry, type SoftState } from '../../src/raft/index.ts';
import { decodeControllerEntry, encodeControllerEntry, encodeControllerSnapshot } from '../../src/replication/controller/controller-entry.ts';
import { ControllerStateMachine } from '../../src/replication/controller/controller-state-machine.ts';
import { ReplicatedMetadata, type ReplicatedMetadataOptions } from '../../src/replication/controller/replicated-metadata.ts';

function commandOf(entry: Entry): MetadataCommand | null {
  if (entry.type !== EntryType.Normal || entry.data.byteLength === 0) return null;
  const decoded = decodeControllerEntry(entry.data);
  return decoded.kind === 'command' ? decoded.cmd : null;
}

/** Applies every allocate-producer-ids entry twice (as a replay after a crash without a guard might). */
export class DoubleApplyingMachine extends ControllerStateMachine {
  override apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      super.apply([entry]);
      if (commandOf(entry)?.type === 'allocate-producer-ids') super.apply([entry]);
    }
  }
}

/** Silently skips every alter-configs entry (as a filter on the apply path that is too eager might). */
export class SkippingMachine extends ControllerStateMachine {
  override apply(entries: readonly Entry[]): void {
    super.apply(entries.filter((entry) => commandOf(entry)?.type !== 'alter-configs'));
  }
}

/**
 * Reports a command whose fate is unknown (the leader changed or time ran out while deciding) as a
 * success, as if it had been applied.
 */
export class OptimisticMetadata extends ReplicatedMetadata {
  override async submit(cmd: MetadataCommand): Promise<MetadataResult> {
    const result = await super.submit(cmd);
    if (result.error === 'NOT_CONTROLLER' || result.error === 'REQUEST_TIMED_OUT') return { error: null };
    return result;
  }
}

/**
 * Hands out the next producer id read from the applied state, and allocates it in the background:
 * two brokers reading the same state hand out the same id.
 */
export class LocalProducerIds extends ReplicatedMetadata {
  override async nextProducerId(): Promise<bigint> {
    if (!this.initialised) throw new Error('no cluster state yet');
    const next = BigInt(this.state.snapshot().nextProducerId);
    void this.submit({ type: 'allocate-producer-ids', count: 1 });
    return next;
  }
}

/** Names the cluster again in every term it leads, not only while the cluster has no name. */
export class RenamingMetadata extends ReplicatedMetadata {
  private readonly settings: ReplicatedMetadataOptions;

  constructor(options: ReplicatedMetadataOptions) {
    super(options);
    this.settings = options;
  }

  override leadershipChanged(state: SoftState, term: number): void {
    super.leadershipChanged(state, term);
    if (state.lead === this.settings.brokerId && this.initialised) {
      this.settings.driver.propose([encodeControllerEntry({ kind: 'init', clusterId: this.settings.newClusterId() })], () => undefined);
    }
  }
}

/** Lets a later naming entry rename a cluster that already has an id (the last name wins). */
export class RenamingMachine extends ControllerStateMachine {
  override apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      const current = this.state;
      const decoded = entry.type === EntryType.Normal && entry.data.byteLength > 0 ? decodeControllerEntry(entry.data) : null;
      if (current === null || decoded?.kind !== 'init' || decoded.clusterId === current.clusterId) {
        super.apply([entry]);
        continue;
      }
      const data = encodeControllerSnapshot({ ...current.snapshot(), clusterId: decoded.clusterId });
      this.restore({ data, metadata: { index: entry.index, term: entry.term, confState: { voters: [], learners: [] } } });
    }
  }
}
