import { EntryType } from '../../src/raft/index.ts';
import type { Entry, Snapshot } from '../../src/raft/index.ts';
import type { RaftStateMachine } from '../../src/replication/raft-state-machine.ts';
import { decodePayload } from './payload.ts';

/** Told of every applied entry: the proposal id it carried (if any) and how often that id was applied here. */
export type AppliedHook = (entry: Entry, proposal: string | null, count: number) => void;

/**
 * One replica's application state: how many times each proposal id was applied, in the order
 * they were applied. A crash loses it; the driver rebuilds it from the durable snapshot and the
 * committed entries the Raft node hands out again, exactly as a real replica would.
 */
export class ReplicaStateMachine implements RaftStateMachine {
  appliedIndex = 0;
  readonly counts = new Map<string, number>();
  private order: string[] = [];

  constructor(private readonly onApplied: AppliedHook) {}

  apply(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.appliedIndex + 1) throw new Error(`applied index ${entry.index} after ${this.appliedIndex}`);
      this.appliedIndex = entry.index;
      const id = entry.type === EntryType.Normal ? decodePayload(entry.data) : null;
      let count = 0;
      if (id !== null) {
        count = (this.counts.get(id) ?? 0) + 1;
        this.counts.set(id, count);
        this.order.push(id);
      }
      this.onApplied(entry, id, count);
    }
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.order));
  }

  /** Replaces the whole state by a snapshot's. */
  restore(snapshot: Snapshot): void {
    this.appliedIndex = snapshot.metadata.index;
    this.counts.clear();
    this.order = [];
    if (snapshot.data.length === 0) return;
    const order = JSON.parse(new TextDecoder().decode(snapshot.data)) as string[];
    for (const id of order) {
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
      this.order.push(id);
    }
  }
}
