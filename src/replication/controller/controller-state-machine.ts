/**
 * The controller group's applied state: ClusterState, rebuilt on every broker from the controller's
 * Raft log. The first entry a leader commits names the cluster (its id); commands before it cannot
 * exist, because a leader proposes nothing else until the name is applied. Each applied command's
 * result is kept by log index for a while, so the broker that proposed it can answer its client with
 * the result the command had where it applied, which is the same on every broker.
 */
import { ClusterState, type MetadataCommand, type MetadataResult } from '../../metadata/cluster-state.ts';
import { EntryType, type Entry, type Snapshot } from '../../raft/index.ts';
import type { RaftStateMachine } from '../raft-state-machine.ts';
import { decodeControllerEntry, decodeControllerSnapshot, encodeControllerSnapshot } from './controller-entry.ts';

/** Results kept for proposers to take; a proposer takes its own within one Ready, so a few suffice. */
const RESULTS_KEPT = 4096;

export interface ControllerListener {
  /** A command applied and succeeded. */
  applied(cmd: MetadataCommand): void;
  /** The state was replaced as a whole (a snapshot from the leader, or the cluster was named). */
  reset(): void;
}

export class ControllerStateMachine implements RaftStateMachine {
  private current: ClusterState | null = null;
  private readonly results = new Map<number, MetadataResult>();
  private readonly listeners: ControllerListener[] = [];

  /** Null until the entry naming the cluster is applied. */
  get state(): ClusterState | null {
    return this.current;
  }

  listen(listener: ControllerListener): void {
    this.listeners.push(listener);
  }

  /** The result of the command applied at `index`, once; undefined when it was not a command or is gone. */
  takeResult(index: number): MetadataResult | undefined {
    const result = this.results.get(index);
    this.results.delete(index);
    return result;
  }

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      // Empty entries are the leaders' no-ops; membership changes were applied by the core.
      if (entry.type !== EntryType.Normal || entry.data.byteLength === 0) continue;
      const decoded = decodeControllerEntry(entry.data);
      if (decoded.kind === 'init') {
        // Every leader that found the cluster unnamed proposed a name; the first one applied wins.
        if (this.current === null) {
          this.current = new ClusterState(decoded.clusterId, null);
          for (const l of this.listeners) l.reset();
        }
        continue;
      }
      const result: MetadataResult = this.current === null ? { error: 'NOT_CONTROLLER', message: 'the cluster has no id yet' } : this.current.apply(decoded.cmd);
      this.keep(entry.index, result);
      if (result.error === null) for (const l of this.listeners) l.applied(decoded.cmd);
    }
  }

  snapshot(): Uint8Array {
    return encodeControllerSnapshot(this.current?.snapshot() ?? null);
  }

  restore(snapshot: Snapshot): void {
    const state = decodeControllerSnapshot(snapshot.data);
    this.current = state === null ? null : ClusterState.restore(state, null);
    this.results.clear();
    for (const l of this.listeners) l.reset();
  }

  private keep(index: number, result: MetadataResult): void {
    this.results.set(index, result);
    if (this.results.size > RESULTS_KEPT) {
      const oldest = this.results.keys().next().value!;
      this.results.delete(oldest);
    }
  }
}
