/**
 * Keeps this broker's open partition logs in line with the cluster metadata: the partitions it hosts
 * are open, and the logs of topics that no longer exist are removed. It compares the applied state
 * with what is open, never replays individual commands, so re-applying the controller log after a
 * restart (which replays old creations and deletions) cannot remove a log the final state still has.
 * Runs are serialised; requests during a run are folded into one more run.
 *
 * Which partitions a broker hosts is the caller's rule (`hosts`): those whose replica set names it,
 * the target of a move included (metadata/reassignment.ts). A partition that no longer names it is
 * closed and its data removed.
 */
import type { TopicRecord } from '../metadata/cluster-state.ts';
import type { MetadataService } from './metadata-service.ts';
import type { LogSettings, PartitionManager } from './partition-manager.ts';

export interface PartitionHostingOptions {
  readonly metadata: MetadataService;
  readonly partitions: PartitionManager;
  readonly hosts: (topic: TopicRecord, index: number) => boolean;
  readonly settings: (topic: TopicRecord) => LogSettings;
  readonly log: { info(fields: object, message: string): void; error(fields: object, message: string): void };
}

export class PartitionHosting {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly options: PartitionHostingOptions) {}

  /**
   * The broker is stopping: no partition is opened or removed from now on. Opens already under way
   * fail once the Raft host has stopped; that is expected then, so it is not reported as an error.
   */
  stop(): void {
    this.stopped = true;
  }

  /** Resolves once a run that started after this call has finished. */
  reconcile(): Promise<void> {
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    const running = this.loop();
    this.running = running;
    return running;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.run();
      } while (this.again);
    } finally {
      // Cleared in the same step that saw `again` false, so no request falls in between.
      this.running = null;
    }
  }

  private async run(): Promise<void> {
    const { metadata, partitions, hosts, settings, log } = this.options;
    const topics = metadata.state.topics();
    const names = new Set(topics.map((t) => t.name));
    for (const topic of topics) {
      if (this.stopped) return;
      const wanted: number[] = [];
      for (let i = 0; i < topic.partitions; i++) if (hosts(topic, i)) wanted.push(i);
      const open = new Set(partitions.indexesOf(topic.name));
      // A replica moved away (reassignment.ts): its data goes once the move is complete.
      const left = [...open].filter((i) => i < topic.partitions && !hosts(topic, i));
      for (const index of left) {
        await partitions.removePartition(topic.name, index);
        log.info({ topic: topic.name, partition: index }, 'partition replica moved to other brokers; removed here');
      }
      const missing = wanted.filter((i) => !open.has(i));
      if (missing.length === 0) continue;
      if (this.stopped) return;
      const failures = await partitions.openIndexes(topic.name, missing, settings(topic), false);
      if (this.stopped) {
        if (failures.length > 0) log.info({ topic: topic.name, partitions: failures.map((f) => f.index) }, 'partitions not opened: the broker is stopping');
        return;
      }
      for (const f of failures) log.error({ topic: topic.name, partition: f.index, err: f.error }, 'partition offline');
      log.info({ topic: topic.name, partitions: missing.length - failures.length }, 'partitions hosted here opened');
    }
    for (const name of partitions.topicNames()) {
      if (this.stopped) return;
      if (names.has(name)) continue;
      const indexes = partitions.indexesOf(name);
      await partitions.removeTopic(name, indexes.length === 0 ? 0 : Math.max(...indexes) + 1);
      log.info({ topic: name }, 'partitions of a deleted topic removed');
    }
  }
}
