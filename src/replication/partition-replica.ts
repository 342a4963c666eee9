/**
 * This broker's replica of a partition's Raft group: the glue between a Partition (its segment log,
 * producer state and fetch waiters), the group's PartitionRaftLog (the Raft log inside that segment
 * log) and its RaftDriver in the broker's multi-raft host.
 *
 * As the partition's writer (PartitionWriter) on the leader: it stamps each batch with the next
 * offset and the leader epoch (= the Raft term), proposes it as one entry, and the batch is visible
 * once the entry is applied here, that is committed: durable on a majority of the replicas. A lost
 * proposal (overwritten, leadership lost) rejects with SB_ERR_NOT_LEADER, so the producer retries
 * against the new leader; with idempotence the retry is recognised if the batch did commit.
 *
 * As the group's state machine: the data is in the log already (persisted before it is applied), so
 * applying only moves the high watermark to the end offset of the last applied entry, feeds the
 * applied batches to the partition's transactions (so every replica computes the same last stable
 * offset from the same committed log) and wakes the fetches waiting for it. The owner rebuilds the
 * transactions up to the applied entries before the replica starts (partition-replicas.ts attach).
 *
 * Leadership: a leader takes writes only once it is ready: the first entry of its own term (the
 * no-op every new leader proposes) is applied, so its high watermark covers everything any earlier
 * leader acknowledged, and its producer state is rebuilt from the log tail, so it recognises the
 * retries of batches its predecessor appended. Losing leadership drops that state.
 *
 * Snapshots: a partition group takes none of its own; the log is its state (see docs/replication.md
 * for retention).
 *
 * DeleteRecords: the leader proposes the new log start as an entry (partition-log-start.ts); once
 * applied, every replica answers it as its log start (`deletedBelow`), and retention deletes the
 * segments wholly below it. Entries applied before a restart are not applied again, so the start is
 * read back from the retained log start entries; compacted ones lie below the log's own start.
 */
import { EntryType, type Entry, type SoftState, type Snapshot } from '../raft/index.ts';
import { checkBatch, readLastOffsetDelta, stampBatch, type BatchRules } from '../protocol/kafka/record-batch/header.ts';
import { StreamBusError } from '../util/errors.ts';
import type { MultiRaft } from './multi-raft.ts';
import type { Partition, PartitionWriter, WrittenBatch } from './partition.ts';
import { PRODUCER_STATE_TAIL_BYTES } from './partition-manager.ts';
import { decodePartitionSnapshotData } from './partition-raft-files.ts';
import { LOG_START_ENTRY_BYTES, decodeLogStart, encodeLogStart, isLogStartEntry } from './partition-log-start.ts';
import type { PartitionRaftLog } from './partition-raft-log.ts';
import { ProducerStateTable } from './producer-state.ts';
import { PartitionTransactions } from './partition-transactions.ts';
import { decodeTransactionsCheckpoint, encodeTransactionsCheckpoint } from './transactions-checkpoint.ts';
import type { QuiescePolicy, RaftDriver, RaftSettings } from './raft-driver.ts';
import type { RaftStateMachine } from './raft-state-machine.ts';

/** How long a follower may trail the leader's commit and still count as in sync (Kafka's replica.lag.time.max.ms is 30 s). */
export const REPLICA_LAG_MS = 10_000;

export interface ReplicaLeadership {
  readonly groupId: number;
  /** The leader's broker id, -1 when none is known. */
  readonly leader: number;
  readonly term: number;
}

export interface PartitionReplicaOptions {
  readonly groupId: number;
  readonly brokerId: number;
  readonly partition: Partition;
  readonly store: PartitionRaftLog;
  readonly multiRaft: MultiRaft;
  readonly settings: RaftSettings;
  /** When the group stops ticking while idle; without it, it never does. */
  readonly quiesce?: QuiescePolicy;
  /** Largest batch accepted (the group's entries must fit one inter-broker message). */
  readonly maxBatchBytes: number;
  readonly crc32c: (data: Uint8Array, initial: number, start: number, end: number) => number;
  readonly random: { nextInt(n: number): number };
  /**
   * Leadership of the group changed as this replica sees it (durable term); told once more, with the
   * same leader and term, when this replica's leadership becomes ready for writes (`writable`).
   */
  readonly onLeadership: (leadership: ReplicaLeadership) => void;
  readonly now: () => number;
  /** Seconds from proposing a batch to its commit here (for the commit-latency histogram). */
  readonly onCommitted?: (seconds: number) => void;
  readonly log: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
  /** This replica joins a group that changed membership since it began (RaftConfig.joining). */
  readonly joining?: boolean;
  /** It caught up: it votes from now on. */
  readonly onJoined?: () => Promise<void>;
}

export class PartitionReplica implements PartitionWriter, RaftStateMachine {
  readonly driver: RaftDriver;
  private committedOffset = 0;
  /** Term of the last applied entry: a new leader is ready once it applied one of its own term. */
  private appliedTerm = 0;
  private leaderTerm = -1;
  /** The leader term whose producer state is rebuilt. */
  private rebuiltTerm = -1;
  /** The leader term whose readiness for writes was told (onLeadership). */
  private readyTerm = -1;
  private nextOffset = 0;
  private failure: StreamBusError | null = null;
  /** The log start the applied DeleteRecords entries set (0: none). */
  private logStartCommitted = 0;
  private readonly batchRules: BatchRules;
  /** The rules for markers this broker builds (control batches, which producers may not send). */
  private readonly markerRules: BatchRules;
  /** Proposals not yet known to be written here (acks=1 waits for them), oldest first. */
  private unwritten: { index: number; term: number; settle: Settle }[] = [];
  /** False while the driver starts (its restore() of the stored snapshot is not an installed one). */
  private started = false;
  /** Per voter, when it was last caught up with the commit index (leader only). */
  private readonly caughtUp = new Map<number, number>();

  constructor(private readonly options: PartitionReplicaOptions) {
    this.batchRules = { exact: true, maxBytes: options.maxBatchBytes, crc: options.crc32c, fromClient: true };
    this.markerRules = { ...this.batchRules, fromClient: false };
    this.driver = options.multiRaft.addGroup(options.groupId, {
      id: options.brokerId,
      store: options.store,
      stateMachine: this,
      random: options.random,
      settings: options.settings,
      // The log is the state: nothing up to the stored commit index is read back to be applied again.
      applied: options.store.hardState().commit,
      ...(options.quiesce === undefined ? {} : { quiesce: options.quiesce }),
      ...(options.joining === true ? { joining: true, onJoined: options.onJoined } : {}),
      onSoftState: (state, term) => this.softState(state, term),
      onFailure: (err) => {
        this.failure = new StreamBusError('SB_ERR_LOG_DIR_OFFLINE', `the Raft group of ${this.name} stopped: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        this.leaderTerm = -1;
        options.log.error({ err, topic: options.partition.topic, partition: options.partition.index, group: options.groupId }, 'partition Raft group stopped; restart the broker');
        options.onLeadership({ groupId: options.groupId, leader: -1, term: this.driver.raft.term });
      },
    });
    this.started = true;
    const applied = this.driver.raft.appliedIndex;
    this.logStartCommitted = options.store.logStartUpTo(applied);
    if (applied > options.store.snapshot().metadata.index) {
      this.committedOffset = options.store.endOffsetAt(applied);
      this.appliedTerm = options.store.term(applied);
    }
  }

  get groupId(): number {
    return this.options.groupId;
  }

  get partition(): Partition {
    return this.options.partition;
  }

  get name(): string {
    return `${this.options.partition.topic}-${this.options.partition.index}`;
  }

  /** The group failed here (its log is offline); null while healthy. */
  get failed(): StreamBusError | null {
    return this.failure;
  }

  // ---- PartitionWriter ----

  get leaderEpoch(): number {
    return this.driver.raft.term;
  }

  get highWatermark(): number {
    return this.committedOffset;
  }

  get writable(): boolean {
    const term = this.leaderTerm;
    return term >= 0 && this.driver.raft.isLeader && this.driver.raft.term === term && this.appliedTerm === term && this.rebuiltTerm === term;
  }

  /** Whether this replica leads its group (ready for writes or not). */
  get leading(): boolean {
    return this.driver.raft.isLeader;
  }

  write(batch: Buffer, control = false): WrittenBatch {
    if (this.failure !== null) throw this.failure;
    if (!this.writable) throw new StreamBusError('SB_ERR_NOT_LEADER', `this broker does not lead ${this.name} now`);
    // A broken batch must be refused here: every replica stores exactly what the leader proposes.
    const problem = checkBatch(batch, 0, batch.length, control ? this.markerRules : this.batchRules);
    if (problem !== null) throw new StreamBusError(problem.kind === 'too-large' ? 'SB_ERR_RECORD_TOO_LARGE' : 'SB_ERR_INVALID_BATCH', problem.message);
    const term = this.leaderTerm;
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + readLastOffsetDelta(batch, 0);
    stampBatch(batch, 0, baseOffset, term);
    const [visible, committed] = settleable();
    const [written, local] = settleable();
    const proposedAt = performance.now();
    const result = this.driver.propose([batch], (outcome) => {
      if (outcome.kind === 'applied') {
        local.resolve();
        committed.resolve();
        this.options.onCommitted?.((performance.now() - proposedAt) / 1000);
        return;
      }
      const error = new StreamBusError('SB_ERR_NOT_LEADER', `the write to ${this.name} was not committed (${outcome.kind}); retry against the current leader`);
      local.reject(error);
      committed.reject(error);
    });
    if (!result.accepted) {
      if (result.reason === 'too-many-uncommitted-bytes') {
        throw new StreamBusError('SB_ERR_NOT_ENOUGH_REPLICAS', `the followers of ${this.name} are too far behind; retry`);
      }
      throw new StreamBusError('SB_ERR_NOT_LEADER', `this broker cannot take writes for ${this.name} now (${result.reason})`);
    }
    this.unwritten.push({ index: result.index, term: result.term, settle: local });
    this.nextOffset = lastOffset + 1;
    return { baseOffset, lastOffset, visible, written };
  }

  get deletedBelow(): number {
    return this.logStartCommitted;
  }

  /** Proposes the new log start; resolves once committed and applied here. */
  deleteRecords(offset: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (!this.writable) return Promise.reject(new StreamBusError('SB_ERR_NOT_LEADER', `this broker does not lead ${this.name} now`));
    const [done, settle] = settleable();
    const result = this.driver.propose([encodeLogStart(offset)], (outcome) => {
      if (outcome.kind === 'applied') settle.resolve();
      else settle.reject(new StreamBusError('SB_ERR_NOT_LEADER', `deleting the records of ${this.name} before ${offset} was not committed (${outcome.kind}); retry against the current leader`));
    });
    if (!result.accepted) return Promise.reject(new StreamBusError('SB_ERR_NOT_LEADER', `this broker cannot take commands for ${this.name} now (${result.reason})`));
    return done;
  }

  /** Entries the furthest-behind follower lacks (0 when not leading). */
  followerLag(): number {
    const status = this.driver.raft.status();
    let lag = 0;
    for (const [id, peer] of status.progress ?? []) if (id !== status.id) lag = Math.max(lag, status.lastIndex - peer.match);
    return lag;
  }

  inSyncReplicaCount(): number {
    return this.inSyncReplicas(REPLICA_LAG_MS).length;
  }

  /** The store finished a write: proposals now stored here with their term are written (acks=1). */
  persisted(): void {
    const { store } = this.options;
    const last = store.lastIndex();
    let done = 0;
    while (done < this.unwritten.length && this.unwritten[done]!.index <= last) {
      const { index, term, settle } = this.unwritten[done++]!;
      let stored = true;
      try {
        stored = store.term(index) === term;
      } catch {
        // Compacted already: it was stored.
      }
      if (stored) settle.resolve();
      else settle.reject(new StreamBusError('SB_ERR_NOT_LEADER', `the write to ${this.name} was replaced by another leader's; retry against the current leader`));
    }
    if (done > 0) this.unwritten = this.unwritten.slice(done);
  }

  /**
   * A new leader takes `ids` (the in-sync replicas last reported for the group) as caught up now, as
   * Kafka's new leader starts its ISR members' lag clocks at its election: a follower stays in sync
   * unless it then lags for the full lag time, rather than only once it has answered this leader.
   */
  presumeInSync(ids: readonly number[]): void {
    const now = this.options.now();
    for (const id of ids) this.caughtUp.set(id, now);
  }

  /**
   * The voters caught up with the leader's commit index within `lagMs` (this broker included), or
   * [] when this replica does not lead. Samples the followers: call it regularly.
   */
  inSyncReplicas(lagMs: number): number[] {
    // A quiesced leader knows which voters held its whole log when it quiesced, and nothing changed
    // since (any change wakes it): they are caught up now, without reading status() (which
    // allocates) for each of thousands of idle partitions twice a second. A voter whose broker was
    // down is not among them and leaves the in-sync replicas once it lagged `lagMs`.
    const quiescedVoters = this.driver.quiescedLeaderVoters;
    if (quiescedVoters !== null) {
      const now = this.options.now();
      for (const id of quiescedVoters) this.caughtUp.set(id, now);
      const isr: number[] = [];
      for (const [id, at] of this.caughtUp) if (now - at <= lagMs) isr.push(id);
      return isr.sort((a, b) => a - b);
    }
    const status = this.driver.raft.status();
    if (status.progress === null) return [];
    const now = this.options.now();
    const isr: number[] = [];
    for (const [id, peer] of status.progress) {
      if (peer.isLearner) continue;
      if (id === this.options.brokerId || (peer.recentActive && peer.match >= status.commit)) this.caughtUp.set(id, now);
      const at = this.caughtUp.get(id);
      if (at !== undefined && now - at <= lagMs) isr.push(id);
    }
    return isr.sort((a, b) => a - b);
  }

  waitVisible(offset: number): Promise<void> {
    if (offset <= this.committedOffset) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (offset <= this.committedOffset || this.options.partition.closing) resolve();
        else this.options.partition.onData(this.committedOffset, check);
      };
      check();
    });
  }

  // ---- RaftStateMachine ----

  apply(entries: readonly Entry[]): void {
    const { partition } = this.options;
    for (const entry of entries) {
      if (isLogStartEntry(entry)) this.logStartCommitted = Math.max(this.logStartCommitted, decodeLogStart(entry.data));
      // Entries applied before a restart come again when the stored commit index trailed them; the
      // checkpoint the transactions came from may cover them already (Partition.rebuildTransactions).
      else if (isDataEntry(entry)) partition.observeBatch(Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength), true);
    }
    const last = entries[entries.length - 1]!;
    this.committedOffset = this.options.store.endOffsetAt(last.index);
    this.appliedTerm = last.term;
    this.options.partition.dataVisible();
    this.tellReady();
  }

  /**
   * The owner data of a snapshot: the partition's transactions (a transactions checkpoint's bytes,
   * transactions-checkpoint.ts) as of what this replica applied, which is at or past the snapshot's
   * offset: a follower that installs it knows the transactions open below it and the aborted ones
   * within the retained log.
   */
  snapshot(): Uint8Array {
    return encodeTransactionsCheckpoint(this.options.partition.transactionsState());
  }

  restore(snapshot: Snapshot): void {
    const { nextOffset, ownerData } = decodePartitionSnapshotData(snapshot.data);
    this.committedOffset = nextOffset;
    this.appliedTerm = snapshot.metadata.term;
    // The driver restores the stored snapshot as it starts, over the log the owner rebuilt the
    // transactions from (partition-replicas.ts attach). A snapshot installed later replaced the log:
    // the transactions come from the state it carries (as of an offset at or past its next offset,
    // over committed entries only, so the same on every replica); the entries it covers are skipped
    // as they are applied. A snapshot without one (a leader of a version before transactions wrote
    // it) knows of no transaction below its offset.
    if (this.started) this.options.partition.transactions = transactionsOfSnapshot(ownerData, nextOffset);
    this.options.partition.dataVisible();
  }

  // ---- leadership ----

  private softState(state: SoftState, term: number): void {
    const { partition, brokerId, groupId, log } = this.options;
    const leads = state.lead === brokerId;
    if (leads && this.leaderTerm !== term) {
      this.leaderTerm = term;
      void this.rebuildProducers(term);
    } else if (!leads && this.leaderTerm >= 0) {
      this.leaderTerm = -1;
      this.caughtUp.clear();
      // Their proposals' outcomes settle them (lost leadership): nothing more to watch.
      this.unwritten = [];
      // Followers keep no producer state: the next leadership rebuilds it from the log.
      partition.producers = new ProducerStateTable();
    }
    log.info({ topic: partition.topic, partition: partition.index, group: groupId, leader: state.lead === 0 ? null : state.lead, term }, 'partition leadership');
    this.options.onLeadership({ groupId, leader: state.lead === 0 ? -1 : state.lead, term });
  }

  /**
   * Tells onLeadership again, once per term, when this leader becomes ready for writes (its term's
   * first entry applied, its producer state rebuilt). What lives with the leader, the group and
   * transaction coordinators placed on `__consumer_offsets` and `__transaction_state`, loads then:
   * told only of the election, when the replica is not ready yet, it waited for its next periodic
   * check (up to a second without a coordinator after every failover).
   */
  private tellReady(): void {
    const term = this.leaderTerm;
    if (term < 0 || term === this.readyTerm || !this.writable) return;
    this.readyTerm = term;
    this.options.onLeadership({ groupId: this.options.groupId, leader: this.options.brokerId, term });
  }

  /**
   * Producer state of a new leadership, from the log as it stands now: everything earlier leaders
   * appended is in it, and this leader has not proposed anything yet.
   */
  private async rebuildProducers(term: number): Promise<void> {
    const { partition, store, log } = this.options;
    const table = new ProducerStateTable();
    try {
      const batches = await partition.rebuildProducerState(PRODUCER_STATE_TAIL_BYTES, table);
      if (this.leaderTerm !== term) return;
      partition.producers = table;
      this.nextOffset = store.endOffsetAt(store.lastIndex());
      this.rebuiltTerm = term;
      log.info({ topic: partition.topic, partition: partition.index, term, batches, nextOffset: this.nextOffset }, 'partition leader ready');
      this.tellReady();
    } catch (err) {
      log.error({ err, topic: partition.topic, partition: partition.index }, 'rebuilding producer state failed; this broker will not take writes for the partition');
    }
  }
}

/** The transactions a partition snapshot's owner data carries (see snapshot()), from `nextOffset` on. */
export function transactionsOfSnapshot(ownerData: Uint8Array, nextOffset: number): PartitionTransactions {
  const state = decodeTransactionsCheckpoint(ownerData);
  if (state !== null && state.observedEnd >= nextOffset) return PartitionTransactions.fromState(state);
  const empty = new PartitionTransactions();
  empty.advanceTo(nextOffset);
  return empty;
}

/** A data entry is exactly one record batch; no-ops are empty, log start entries 8 bytes, conf changes typed. */
function isDataEntry(entry: Entry): boolean {
  return entry.type === EntryType.Normal && entry.data.byteLength > LOG_START_ENTRY_BYTES;
}

interface Settle {
  resolve(): void;
  reject(error: Error): void;
}

/** A promise and the functions that settle it; a rejection nobody awaits is not reported as unhandled. */
function settleable(): [Promise<void>, Settle] {
  let settle!: Settle;
  const promise = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  promise.catch(() => undefined);
  return [promise, settle];
}
