import { EntryType } from '../../src/raft/index.ts';
import type { Entry } from '../../src/raft/index.ts';
import { decodePayload } from './payload.ts';

/**
 * One replica's application state: how many times each proposal id was applied, in the order
 * they were applied. A crash loses it; it is rebuilt from the durable snapshot and the committed
 * entries the Raft node hands out again, exactly as a real replica would.
 */
export class ReplicaStateMachine {
  appliedIndex: number;
  readonly counts = new Map<string, number>();
  private order: string[] = [];

  constructor(snapshotIndex: number, snapshotData: Uint8Array) {
    this.appliedIndex = snapshotIndex;
    if (snapshotData.length > 0) this.restoreData(snapshotData);
  }

  /** Applies one committed entry; returns the proposal id it carried, if any. */
  apply(entry: Entry): string | null {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(`applied index ${entry.index} after ${this.appliedIndex}`);
    }
    this.appliedIndex = entry.index;
    if (entry.type !== EntryType.Normal) return null;
    const id = decodePayload(entry.data);
    if (id === null) return null;
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    this.order.push(id);
    return id;
  }

  snapshotData(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.order));
  }

  /** Replaces the whole state by a snapshot's. */
  restore(index: number, data: Uint8Array): void {
    this.appliedIndex = index;
    this.counts.clear();
    this.order = [];
    if (data.length > 0) this.restoreData(data);
  }

  private restoreData(data: Uint8Array): void {
    const order = JSON.parse(new TextDecoder().decode(data)) as string[];
    for (const id of order) {
      this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
      this.order.push(id);
    }
  }
}
