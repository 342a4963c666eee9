// The Raft throughput harness: three RaftNodes in one process over MemoryStorage, driven exactly
// as the simulator and the replication layer drive them (persist, send, apply, advance), with a
// no-op network (a message is stepped into its target as soon as its Ready is handled). What it
// measures is the cost of the consensus core itself: proposals, Readies, appends, acknowledgements,
// commitment and the hand-out of committed entries. No clock or randomness inside the loop.
import { MemoryStorage, RaftNode } from '../../src/raft/index.ts';
import type { Message, Ready } from '../../src/raft/index.ts';

export interface ThroughputOptions {
  /** Committed entries to push through (counted on the leader). */
  readonly entries: number;
  /** Payload bytes per entry. */
  readonly entryBytes: number;
  /** Entries per proposeBatch() call, and proposal calls per round (batching). */
  readonly proposalBatch: number;
  readonly proposalsPerRound: number;
  /** Compact every node's log once this many entries were applied since the last compaction. */
  readonly compactEvery: number;
  readonly maxMessageBytes: number;
  /** Returns a monotonic time in milliseconds (performance.now in the benchmark). */
  readonly now: () => number;
  /** Returns the CPU time this process used so far, in milliseconds (user + system). */
  readonly cpuNow: () => number;
}

export interface ThroughputResult {
  readonly entries: number;
  readonly seconds: number;
  readonly entriesPerSecond: number;
  /** Entries per second of CPU time: what the core costs, whatever else runs on the machine. */
  readonly entriesPerCpuSecond: number;
  readonly readies: number;
  readonly messages: number;
  /** Entries applied on each node at the end (all equal to `entries` plus the leader's no-op). */
  readonly appliedPerNode: readonly number[];
}

const IDS = [1, 2, 3];

export function measureThroughput(options: ThroughputOptions): ThroughputResult {
  const storages = IDS.map(() => new MemoryStorage({ voters: IDS, learners: [] }));
  const random = { nextInt: (bound: number) => 0 % bound };
  const nodes = IDS.map(
    (id, i) =>
      new RaftNode({
        id,
        storage: storages[i]!,
        random,
        maxMessageBytes: options.maxMessageBytes,
        maxInflightBytes: Math.max(64 * 1024 * 1024, options.maxMessageBytes),
      }),
  );
  const applied = IDS.map(() => 0);
  const sinceCompaction = IDS.map(() => 0);
  let readies = 0;
  let messages = 0;
  const queue: Message[] = [];

  const handle = (i: number, rd: Ready): void => {
    const storage = storages[i]!;
    if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) storage.append(rd.entries);
    if (rd.hardState !== null) storage.setHardState(rd.hardState);
    for (let k = 0; k < rd.messages.length; k++) queue.push(rd.messages[k]!);
    applied[i]! += rd.committedEntries.length;
    sinceCompaction[i]! += rd.committedEntries.length;
    const node = nodes[i]!;
    node.advance(rd);
    if (sinceCompaction[i]! >= options.compactEvery) {
      const meta = node.appliedSnapshotMetadata()!;
      storage.createSnapshot(meta.index, meta.confState, new Uint8Array(0));
      storage.compact(meta.index + 1);
      sinceCompaction[i] = 0;
    }
    readies++;
  };

  const settle = (): void => {
    for (;;) {
      let busy = false;
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[i]!;
        while (node.hasReady()) {
          busy = true;
          handle(i, node.ready());
        }
      }
      if (queue.length === 0 && !busy) return;
      messages += queue.length;
      const batch = queue.splice(0, queue.length);
      for (let k = 0; k < batch.length; k++) {
        const m = batch[k]!;
        nodes[m.to - 1]!.step(m);
      }
    }
  };

  nodes[0]!.campaign();
  settle();
  const leader = nodes[0]!;
  if (!leader.isLeader) throw new Error('node 1 did not become leader');
  const payload = new Uint8Array(options.entryBytes).fill(7);
  const batch = Array.from({ length: options.proposalBatch }, () => payload);
  const base = applied[0]!;
  const start = options.now();
  const cpuStart = options.cpuNow();
  let proposed = 0;
  while (applied[0]! - base < options.entries) {
    for (let p = 0; p < options.proposalsPerRound && proposed < options.entries; p++) {
      const result = leader.proposeBatch(batch);
      if (!result.accepted) throw new Error(`proposal refused: ${result.reason}`);
      proposed += batch.length;
    }
    settle();
  }
  const seconds = (options.now() - start) / 1000;
  const cpuSeconds = (options.cpuNow() - cpuStart) / 1000;
  const entries = applied[0]! - base;
  return {
    entries,
    seconds,
    entriesPerSecond: entries / seconds,
    entriesPerCpuSecond: entries / cpuSeconds,
    readies,
    messages,
    appliedPerNode: [...applied],
  };
}
