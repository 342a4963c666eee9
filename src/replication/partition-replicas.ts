/**
 * The partition replicas of a broker in a cluster: for every partition the metadata places here,
 * its Raft group (the group id and voters come from the controller's topic record) with the Raft
 * log inside the partition's segment log. The partition manager calls attach() when it opens a
 * partition and detach() before it closes or removes one (PartitionReplication).
 *
 * Also the two jobs that need the group and the log together: retention (a durable snapshot at the
 * new log start, then the segment log deletes, then the Raft log forgets the entries whose batches
 * are gone) and the in-sync replica set a leader reports.
 */
import { SNAPSHOT_FILE_NAME, decodePartitionSnapshotData } from './partition-raft-files.ts';
import { decodeTransactionsCheckpoint } from './transactions-checkpoint.ts';
import { join } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { applyConfChange, decodeConfChange, type ConfState } from '../raft/index.ts';
import type { MetadataService } from './metadata-service.ts';
import { hasHistory, initialVoters, replicaSet } from '../metadata/reassignment.ts';

/** Present while a replica joining a group that changed membership has not caught up (attach). */
export const JOINING_FILE_NAME = 'raft.joining';
import type { Log } from '../storage/log.ts';
import { segmentsToDelete } from '../storage/retention.ts';
import { StreamBusError } from '../util/errors.ts';
import { APPEND_HEADROOM_BYTES, type MultiRaft } from './multi-raft.ts';
import type { PartitionReplication } from './partition-manager.ts';
import { PartitionHardStates } from './partition-hard-states.ts';
import { PartitionRaftLog } from './partition-raft-log.ts';
import { PartitionReplica, REPLICA_LAG_MS, type ReplicaLeadership } from './partition-replica.ts';
import type { Partition } from './partition.ts';
import type { QuiescePolicy, RaftSettings } from './raft-driver.ts';


export interface PartitionReplicasOptions {
  readonly brokerId: number;
  readonly metadata: MetadataService;
  readonly multiRaft: MultiRaft;
  readonly disk: Disk;
  readonly settings: RaftSettings;
  /** When idle partition groups stop ticking (docs/replication.md, "Quiescence"); never without it. */
  readonly quiesce?: QuiescePolicy;
  /** The largest message the inter-broker channel carries: one entry (one batch) must fit. */
  readonly channelMaxBytes: number;
  readonly now: () => number;
  /**
   * Whether each Raft write is fsynced before it is acknowledged (storage.syncInterval 0), or only
   * written and left to the segment log's periodic sync, Kafka's durability by replication.
   */
  readonly syncEntries: boolean;
  readonly onCommitted?: (seconds: number) => void;
  /** Election-timeout jitter of the groups; default Math.random (a simulation passes a seeded one). */
  readonly random?: { nextInt(n: number): number };
  readonly onLeadership: (replica: PartitionReplica, leadership: ReplicaLeadership) => void;
  /**
   * The folder of the broker's shared hard-state file (PartitionHardStates; the data directory):
   * every group's term and vote changes are batched behind one fsync there. Without it, each
   * partition keeps its own raft.state (one fsync per change per group).
   */
  readonly hardStateDir?: string;
  readonly log: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
}

interface Hosted {
  readonly replica: PartitionReplica;
  readonly store: PartitionRaftLog;
}

export class PartitionReplicas implements PartitionReplication {
  private readonly hosted = new Map<Partition, Hosted>();
  private readonly byReplica = new Map<PartitionReplica, Hosted>();
  private readonly byGroup = new Map<number, PartitionReplica>();
  private hardStates: Promise<PartitionHardStates> | null = null;

  constructor(private readonly options: PartitionReplicasOptions) {}

  /** Every replica hosted here. */
  replicas(): PartitionReplica[] {
    return [...this.byReplica.keys()];
  }

  /** The replica of Raft group `groupId` hosted here, if any. */
  replica(groupId: number): PartitionReplica | undefined {
    return this.byGroup.get(groupId);
  }

  async attach(partition: Partition): Promise<void> {
    const { metadata, disk, multiRaft, brokerId, log } = this.options;
    const topic = metadata.state.topic(partition.topic);
    if (topic === undefined) throw new StreamBusError('SB_ERR_CLOSED', `topic ${partition.topic} no longer exists`);
    const groupId = topic.raftGroups[partition.index]!;
    // The group's first configuration; later membership changes come from its log (reassignment.ts).
    const voters = [...initialVoters(topic, partition.index)].sort((a, b) => a - b);
    const segmentLog = partition.log as Log;
    const fresh = (await disk.fileSize(join(segmentLog.dir, SNAPSHOT_FILE_NAME))) === undefined;
    if (fresh && segmentLog.endOffset > 0 && voters.length > 1) {
      // Written before partitions were replicated: the other replicas hold nothing, and starting a
      // group over these offsets would give them to no one else. Kept offline, never overwritten.
      throw new StreamBusError(
        'SB_ERR_CORRUPT',
        `${partition.topic}-${partition.index} holds ${segmentLog.endOffset} offsets written before partition replication and has no Raft files; ` +
          'its other replicas are empty. Copy the data to a new topic (or delete and recreate this one).',
      );
    }
    let replica: PartitionReplica | undefined;
    const hardStateDir = this.options.hardStateDir;
    if (hardStateDir !== undefined) this.hardStates ??= PartitionHardStates.open(hardStateDir, disk);
    const journal = this.hardStates === null ? undefined : await this.hardStates;
    // A new replica of a group whose membership changed since it began replays that history from the
    // voters it began with, in which it may vote: if it took part in the group before (moved away and
    // back: the shared hard-state file still holds its term), it joins without voting until caught up
    // (RaftConfig joining); the marker keeps that across restarts until it has. One that never took
    // part (term 0) votes at once: should a majority of the first voters never have taken part, the
    // group never committed anything, and joining would only keep it from ever electing a leader.
    // Without the shared file there is no such record: every new replica of such a group joins.
    const marker = join(segmentLog.dir, JOINING_FILE_NAME);
    const tookPart = journal === undefined || journal.hardState(groupId).term > 0;
    // A broker back with a replaced disk held this group before (broker-registration.ts
    // refillGroupsBelow): it lost what it acknowledged and the votes it cast, and is refilled before it
    // votes. (A replica that moved away and back also starts without files while the shared hard-state
    // file remembers its term: it left the group legitimately and joins as a moved replica above.)
    const lostLog = (metadata.state.broker(brokerId)?.refillGroupsBelow ?? 0) > groupId;
    // Its only replica was here: nobody can refill it, and waiting would keep it offline for ever.
    const alone = replicaSet(topic, partition.index).every((id) => id === brokerId);
    if (fresh && lostLog && alone) {
      log.error({ topic: partition.topic, partition: partition.index, group: groupId }, 'this broker held the only replica of this partition and its disk was replaced: the data is lost, the partition starts again empty at offset 0');
    }
    const joining = (fresh && ((hasHistory(topic, partition.index) && tookPart) || (lostLog && !alone))) || (await disk.fileSize(marker)) !== undefined;
    // One that lost its log first learns the group's term from the other members (RaftConfig.lostLogMembers).
    const settings = joining && lostLog ? { ...this.options.settings, lostLogMembers: replicaSet(topic, partition.index) } : this.options.settings;
    if (joining && fresh) await disk.writeFileDurable(marker, new Uint8Array(0));
    const store = await PartitionRaftLog.open(segmentLog, segmentLog.dir, disk, {
      ...(journal === undefined ? {} : { hardStates: { journal, groupId } }),
      initialConfState: { voters, learners: [] },
      onLoaded: () => replica?.driver.storageLoaded(),
      onPersisted: () => replica?.persisted(),
      syncEntries: this.options.syncEntries,
    });
    // The transactions of the applied entries, which are not applied again (the log is the state): from
    // the partition's transactions checkpoint or the state the stored snapshot carries, whichever is
    // newer, then the log after it.
    const applied = store.hardState().commit;
    const stored = decodePartitionSnapshotData(store.snapshot().data);
    const appliedOffset = applied > store.snapshot().metadata.index ? store.endOffsetAt(applied) : stored.nextOffset;
    await partition.rebuildTransactions(Math.min(appliedOffset, segmentLog.writtenOffset), decodeTransactionsCheckpoint(stored.ownerData));
    replica = new PartitionReplica({
      groupId,
      brokerId,
      partition,
      store,
      multiRaft,
      settings,
      ...(this.options.quiesce === undefined ? {} : { quiesce: this.options.quiesce }),
      maxBatchBytes: this.options.channelMaxBytes - APPEND_HEADROOM_BYTES,
      crc32c: (data, seed, start, end) => disk.crc32c(data, seed, start, end),
      random: this.options.random ?? { nextInt: (n) => Math.floor(Math.random() * n) },
      onLeadership: (leadership) => this.options.onLeadership(replica!, leadership),
      now: this.options.now,
      onCommitted: this.options.onCommitted,
      log,
      joining,
      onJoined: async () => {
        // Gone for good before the replica votes: a crash that brought it back would have the replica
        // join again with a log it caught up, and with another replica joining the group could not
        // elect. A removal that fails leaves the marker, which only means catching up once more.
        try {
          await disk.unlink(marker);
          await disk.syncDir(segmentLog.dir);
        } catch (err) {
          log.warn({ err, path: marker }, 'removing the joining marker failed');
        }
        log.info({ topic: partition.topic, partition: partition.index, group: groupId }, 'partition replica caught up after joining; it votes from now on');
      },
    });
    partition.replicateWith(replica);
    // A new group's preferred replica stands at once rather than after an election timeout.
    if (store.hardState().term === 0 && initialVoters(topic, partition.index)[0] === brokerId) replica.driver.campaign();
    const hosted = { replica, store };
    this.hosted.set(partition, hosted);
    this.byReplica.set(replica, hosted);
    this.byGroup.set(groupId, replica);
  }

  async detach(partition: Partition): Promise<void> {
    const hosted = this.hosted.get(partition);
    if (hosted === undefined) return;
    this.hosted.delete(partition);
    this.byReplica.delete(hosted.replica);
    if (this.byGroup.get(hosted.replica.groupId) === hosted.replica) this.byGroup.delete(hosted.replica.groupId);
    this.options.multiRaft.removeGroup(hosted.replica.groupId);
    await hosted.store.close().catch((err: unknown) => this.options.log.warn({ err, topic: partition.topic, partition: partition.index }, 'closing a partition Raft log failed'));
  }

  /** Closes the shared hard-state file, once every partition is detached. */
  async close(): Promise<void> {
    const hardStates = this.hardStates;
    this.hardStates = null;
    if (hardStates !== null) await (await hardStates.catch(() => null))?.close();
  }

  /**
   * Retention of a replicated partition: the whole segments retention would delete, but only those
   * below what this replica applied; first a snapshot at the new log start, durable, then the
   * segments go (Log.advanceLogStart), and the Raft log forgets the entries whose batches are gone,
   * so a follower that far behind restarts its log there, as a Kafka follower truncates to the
   * leader's log start. In that order because a crash between the two must not leave committed
   * entries whose batches are gone with no snapshot past them: they could never be applied again.
   * Segments wholly below the log start a committed DeleteRecords set go too, whatever the topic's
   * retention (even on a compacted topic). Returns the segments deleted.
   */
  async retain(partition: Partition, nowMs: number): Promise<number> {
    const hosted = this.hosted.get(partition);
    if (hosted === undefined) return 0;
    const { store, replica } = hosted;
    const segmentLog = partition.log as Log;
    const { cleanupPolicy, retentionMs, retentionBytes } = segmentLog.options;
    const segments = segmentLog.allSegments();
    const candidates = segments.map((s) => ({ sizeBytes: s.sizeBytes, maxTimestamp: s.maxTimestamp, sealed: s.state !== 'active' }));
    let n = cleanupPolicy.includes('delete') ? segmentsToDelete(candidates, nowMs, retentionMs, retentionBytes) : 0;
    // Never the last segment: the log keeps its active one.
    const deletedBelow = replica.deletedBelow;
    while (n + 1 < segments.length && segments[n + 1]!.baseOffset <= deletedBelow) n++;
    const raft = replica.driver.raft;
    // Entries not applied here yet keep their batches: they are applied from them.
    while (n > 0 && store.firstIndexAtOrAfter(segments[n]!.baseOffset) - 1 > raft.appliedIndex) n--;
    if (n === 0) return 0;
    const logStartOffset = segments[n]!.baseOffset;
    const last = store.firstIndexAtOrAfter(logStartOffset) - 1;
    try {
      // The batches below the new start cannot be scanned again: a restart must find the transactions
      // open there in a checkpoint (this replica applied past the start, so its state covers it).
      if (!(await partition.checkpointBefore(logStartOffset))) return 0;
      // The snapshot carries the transactions too, for a follower that installs it.
      if (last > store.snapshot().metadata.index) store.createSnapshot(last, confStateAt(store, last), replica.snapshot());
      await store.settled();
      const deleted = await store.runExclusively(async () => {
        // A leader's snapshot installed meanwhile replaced the log; this round is void.
        if (decodePartitionSnapshotData(store.snapshot().data).nextOffset < logStartOffset || logStartOffset > segmentLog.endOffset) return 0;
        const before = segmentLog.segmentCount;
        await segmentLog.advanceLogStart(logStartOffset);
        return before - segmentLog.segmentCount;
      });
      store.logStartAdvanced();
      return Math.max(0, deleted);
    } catch (err) {
      // The replica was closed meanwhile (moved away, topic deleted, shutdown): nothing left to retain.
      if (this.hosted.get(partition) !== hosted) return 0;
      throw err;
    }
  }

  /** The in-sync replicas of a group this broker leads (see PartitionReplica.inSyncReplicas). */
  inSyncReplicas(replica: PartitionReplica): number[] {
    return replica.inSyncReplicas(REPLICA_LAG_MS);
  }
}

/**
 * The group's configuration as of `index` (applied here): the snapshot's, then every membership
 * change up to `index`. Not the current one: a change applied after `index` must still be replayed
 * by a follower that installs the snapshot and then receives the entries after it.
 */
function confStateAt(store: PartitionRaftLog, index: number): ConfState {
  const base = store.snapshot().metadata;
  let conf = base.confState;
  for (const entry of store.confChangeEntries(base.index + 1, index + 1)) conf = applyConfChange(conf, decodeConfChange(entry.data));
  return conf;
}
