/**
 * Goal: deliberately broken controllers, so that the cluster simulation's checkers can be shown
 * to catch real classes of bugs (controller-checkers-catch-bugs.test.ts).
 * Method: subclasses of the production classes that change one decision each; the simulation
 * builds them instead of the production ones when a bug switch is on.
 */
import type { MetadataCommand, MetadataResult } from '../../src/metadata/cluster-state.ts';
import { EntryType, type Entry } from '../../src/raft/index.ts';
import { decodeControllerEntry } from '../../src/replication/controller/controller-entry.ts';
import { ControllerStateMachine } from '../../src/replication/controller/controller-state-machine.ts';
import { ReplicatedMetadata } from '../../src/replication/controller/replicated-metadata.ts';

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
