/**
 * The partition replicas of a broker in a cluster: for every partition the metadata places here,
 * its Raft group (the group id and voters come from the controller's topic record) with the Raft
 * log inside the partition's segment log. The partition manager calls attach() when it opens a
 * partition and detach() before it closes or removes one (PartitionReplication).
 *
 * Also the two jobs that need the group and the log together: retention (the segment log deletes,
 * then the Raft log forgets the entries whose batches are gone, behind a snapshot at the new log
 * start) and the in-sync replica set a leader reports.
 */
import { SNAPSHOT_FILE_NAME } from './partition-raft-files.ts';
import { join } from 'node:path';
import type { Disk } from '../io/disk.ts';
import type { MetadataService } from './metadata-service.ts';
import type { Log } from '../storage/log.ts';
import { StreamBusError } from '../util/errors.ts';
import { APPEND_HEADROOM_BYTES, type MultiRaft } from './multi-raft.ts';
import type { PartitionReplication } from './partition-manager.ts';
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
  readonly onLeadership: (replica: PartitionReplica, leadership: ReplicaLeadership) => void;
  readonly log: { info(fields: object, message: string): void; warn(fields: object, message: string): void; error(fields: object, message: string): void };
}

interface Hosted {
  readonly replica: PartitionReplica;
  readonly store: PartitionRaftLog;
}

export class PartitionReplicas implements PartitionReplication {
  private readonly hosted = new Map<Partition, Hosted>();
  private readonly byReplica = new Map<PartitionReplica, Hosted>();

  constructor(private readonly options: PartitionReplicasOptions) {}

  /** Every replica hosted here. */
  replicas(): PartitionReplica[] {
    return [...this.byReplica.keys()];
  }

  async attach(partition: Partition): Promise<void> {
    const { metadata, disk, multiRaft, brokerId, log } = this.options;
    const topic = metadata.state.topic(partition.topic);
    if (topic === undefined) throw new StreamBusError('SB_ERR_CLOSED', `topic ${partition.topic} no longer exists`);
    const groupId = topic.raftGroups[partition.index]!;
    const voters = [...topic.assignments[partition.index]!].sort((a, b) => a - b);
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
    const store = await PartitionRaftLog.open(segmentLog, segmentLog.dir, disk, {
      initialConfState: { voters, learners: [] },
      onLoaded: () => replica?.driver.storageLoaded(),
      onPersisted: () => replica?.persisted(),
    });
    replica = new PartitionReplica({
      groupId,
      brokerId,
      partition,
      store,
      multiRaft,
      settings: this.options.settings,
      ...(this.options.quiesce === undefined ? {} : { quiesce: this.options.quiesce }),
      maxBatchBytes: this.options.channelMaxBytes - APPEND_HEADROOM_BYTES,
      crc32c: (data, seed, start, end) => disk.crc32c(data, seed, start, end),
      random: { nextInt: (n) => Math.floor(Math.random() * n) },
      onLeadership: (leadership) => this.options.onLeadership(replica!, leadership),
      now: this.options.now,
      log,
    });
    partition.replicateWith(replica);
    // A new group's preferred replica stands at once rather than after an election timeout.
    if (store.hardState().term === 0 && topic.assignments[partition.index]![0] === brokerId) replica.driver.campaign();
    const hosted = { replica, store };
    this.hosted.set(partition, hosted);
    this.byReplica.set(replica, hosted);
  }

  async detach(partition: Partition): Promise<void> {
    const hosted = this.hosted.get(partition);
    if (hosted === undefined) return;
    this.hosted.delete(partition);
    this.byReplica.delete(hosted.replica);
    this.options.multiRaft.removeGroup(hosted.replica.groupId);
    await hosted.store.close().catch((err: unknown) => this.options.log.warn({ err, topic: partition.topic, partition: partition.index }, 'closing a partition Raft log failed'));
  }

  /**
   * Retention of a replicated partition: the segment log deletes expired segments between two Raft
   * writes; then a snapshot at the new log start replaces the entries whose batches are gone, so a
   * follower that far behind restarts its log there, as a Kafka follower truncates to the leader's
   * log start. Returns the segments deleted.
   */
  async retain(partition: Partition, nowMs: number): Promise<number> {
    const hosted = this.hosted.get(partition);
    if (hosted === undefined) return 0;
    const { store, replica } = hosted;
    const segmentLog = partition.log as Log;
    const deleted = await store.runExclusively(() => segmentLog.applyRetention(nowMs));
    if (deleted === 0) return 0;
    const last = store.firstIndexAtOrAfter(segmentLog.logStartOffset) - 1;
    const raft = replica.driver.raft;
    if (last > store.snapshot().metadata.index && last <= raft.appliedIndex) {
      store.createSnapshot(last, raft.confState(), new Uint8Array(0));
    } else if (last > raft.appliedIndex) {
      this.options.log.warn({ topic: partition.topic, partition: partition.index, last, applied: raft.appliedIndex }, 'retention passed the committed log; no snapshot taken');
    }
    store.logStartAdvanced();
    return deleted;
  }

  /** The in-sync replicas of a group this broker leads (see PartitionReplica.inSyncReplicas). */
  inSyncReplicas(replica: PartitionReplica): number[] {
    return replica.inSyncReplicas(REPLICA_LAG_MS);
  }
}
