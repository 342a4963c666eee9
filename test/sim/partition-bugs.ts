// Deliberate bugs for the partition simulation, to show that its checkers catch them. Each is
// planted on a replica right after PartitionReplicas.attach() (or, for the lying fsync, in the
// MemDisk; for the consumer's, in the simulated read_committed consumer; for the transaction
// coordinator's, on each coordinator as it is made and on its log), so src stays as it ships:
// a writer wrapped around the replica or the log, or an instance property shadowing one of its members.
import type { RaftDriver } from '../../src/replication/raft-driver.ts';
import type { PartitionReplica } from '../../src/replication/partition-replica.ts';
import type { PartitionWriter, WrittenBatch } from '../../src/replication/partition.ts';
import { ProducerStateTable } from '../../src/replication/producer-state.ts';
import { PartitionTransactions } from '../../src/replication/partition-transactions.ts';
import type { PartitionRaftLog } from '../../src/replication/partition-raft-log.ts';
import type { OffsetsLog } from '../../src/groups/offsets-log.ts';
import type { TransactionCoordinator } from '../../src/transactions/txn-coordinator.ts';
import { decodeTxnLogValue } from '../../src/transactions/txn-log-records.ts';

export interface PartitionSimBugs {
  /** Produce is acknowledged as soon as the leader proposed the batch, not once it is committed. */
  readonly ackBeforeCommit?: boolean;
  /** A new leader takes writes before the first entry of its own term is applied. */
  readonly writableBeforeOwnEntry?: boolean;
  /** A new leader starts with empty producer state instead of rebuilding it from the log. */
  readonly skipProducerRebuild?: boolean;
  /** The disk's fsync reports success and makes nothing durable. */
  readonly lyingFsync?: boolean;
  /** The last stable offset is the high watermark: read_committed reads undecided transactions. */
  readonly lsoIsHighWatermark?: boolean;
  /** read_committed consumers ignore the aborted transactions Fetch lists (and hand on aborted records). */
  readonly consumerIgnoresAborted?: boolean;
  /** A restarted replica forgets the transactions of the log it recovered (open and aborted ones). */
  readonly forgetTransactionsAtStart?: boolean;
  /** A transaction coordinator that takes over does not finish the markers of transactions it finds decided. */
  readonly coordinatorSkipsResume?: boolean;
  /** A transaction coordinator goes on (writes markers, answers EndTxn) before its PrepareCommit/PrepareAbort is stored. */
  readonly decisionNotAwaited?: boolean;
  /** A transaction coordinator that is closed (its broker no longer leads `__transaction_state`) goes on writing markers. */
  readonly deposedCoordinatorWrites?: boolean;
}

/** The replica's private members the bugs reach into. */
interface ReplicaInternals {
  leaderTerm: number;
  rebuiltTerm: number;
  nextOffset: number;
  readonly driver: RaftDriver;
  readonly options: { readonly store: PartitionRaftLog };
  rebuildProducers(term: number): Promise<void>;
}

export function plantBugs(replica: PartitionReplica, bugs: PartitionSimBugs): void {
  const internals = replica as unknown as ReplicaInternals;
  if (bugs.ackBeforeCommit) replica.partition.replicateWith(new EagerWriter(replica));
  if (bugs.writableBeforeOwnEntry) {
    Object.defineProperty(replica, 'writable', {
      get: () => internals.leaderTerm >= 0 && internals.leaderTerm === internals.driver.raft.term && internals.rebuiltTerm === internals.leaderTerm,
    });
  }
  if (bugs.lsoIsHighWatermark) {
    Object.defineProperty(replica.partition, 'lastStableOffset', { get: () => replica.partition.highWatermark });
  }
  if (bugs.forgetTransactionsAtStart) {
    const forgetful = new PartitionTransactions();
    forgetful.advanceTo(replica.partition.transactions.observedEnd);
    replica.partition.transactions = forgetful;
  }
  if (bugs.skipProducerRebuild) {
    internals.rebuildProducers = (term: number): Promise<void> => {
      if (internals.leaderTerm === term) {
        replica.partition.producers = new ProducerStateTable();
        const store = internals.options.store;
        internals.nextOffset = store.endOffsetAt(store.lastIndex());
        internals.rebuiltTerm = term;
      }
      return Promise.resolve();
    };
  }
}

/** Resolves `visible` at once: the produce is acknowledged before the batch is committed. */
class EagerWriter implements PartitionWriter {
  constructor(private readonly inner: PartitionReplica) {}

  get leaderEpoch(): number {
    return this.inner.leaderEpoch;
  }

  get highWatermark(): number {
    return this.inner.highWatermark;
  }

  get writable(): boolean {
    return this.inner.writable;
  }

  write(batch: Buffer): WrittenBatch {
    const result = this.inner.write(batch);
    result.visible.catch(() => undefined);
    return { ...result, visible: Promise.resolve(), written: Promise.resolve() };
  }

  waitVisible(offset: number): Promise<void> {
    return this.inner.waitVisible(offset);
  }

  get deletedBelow(): number {
    return this.inner.deletedBelow;
  }

  deleteRecords(offset: number): Promise<void> {
    return this.inner.deleteRecords(offset);
  }

  inSyncReplicaCount(): number {
    return this.inner.inSyncReplicaCount();
  }
}

/** The transaction coordinator's private member the resume bug reaches into. */
interface CoordinatorInternals {
  finish(id: string, prepared: unknown, commit: boolean, alreadyBusy?: boolean): Promise<void>;
}

/** Plants the coordinator bugs on a coordinator just made (before its load). */
export function plantCoordinatorBugs(coordinator: TransactionCoordinator, bugs: PartitionSimBugs): void {
  // Closing stops only its timer: it stays active, so its marker writes are never cancelled.
  if (bugs.deposedCoordinatorWrites) coordinator.close = () => (coordinator as unknown as { timer: { cancel(): void } | null }).timer?.cancel();
  if (!bugs.coordinatorSkipsResume) return;
  const internals = coordinator as unknown as CoordinatorInternals;
  const load = coordinator.load.bind(coordinator);
  const finish = internals.finish.bind(coordinator);
  // load() resumes unfinished transactions through finish(): during the load it does nothing.
  coordinator.load = async () => {
    internals.finish = () => Promise.resolve();
    try {
      return await load();
    } finally {
      internals.finish = finish;
    }
  };
}

/**
 * The coordinator's log, with the decision bug: a PrepareCommit/PrepareAbort append resolves at once;
 * and, for a deposed coordinator that goes on, without the store's own guard (PartitionOffsetsLog
 * refuses appends once the partition is led in another epoch than its coordinator's), so that the
 * bug is the whole of a coordinator that never learns it was replaced.
 */
export function wrapCoordinatorLog(log: OffsetsLog, bugs: PartitionSimBugs): OffsetsLog {
  if (bugs.deposedCoordinatorWrites) {
    const store = log as unknown as { epoch: number; partition: { leaderEpoch: number } };
    Object.defineProperty(store, 'epoch', { get: () => store.partition.leaderEpoch });
  }
  if (!bugs.decisionNotAwaited) return log;
  return {
    replay: () => log.replay(),
    append: (records, transaction, durability) => {
      const stored = log.append(records, transaction, durability);
      const decision = records.some((r) => {
        const status = r.value === null ? null : decodeTxnLogValue(r.value).status;
        return status === 'PrepareCommit' || status === 'PrepareAbort';
      });
      if (!decision) return stored;
      stored.catch(() => undefined);
      return Promise.resolve();
    },
  };
}
