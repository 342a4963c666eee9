/**
 * Metrics of this broker's partition replicas: how far the followers of the partitions it leads are
 * behind, and how long a batch takes from proposal to commit (the replication share of acks=-1
 * latency). Gauges are read at scrape time.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PartitionReplicas } from '../replication/partition-replicas.ts';
import type { ByteRateBudget } from '../replication/send-budget.ts';

export interface ReplicationMetrics {
  readonly commitSeconds: Histogram;
}

export function registerReplicationMetrics(registry: Registry, replicas: () => PartitionReplicas | undefined, learnerBudget: () => ByteRateBudget | null): ReplicationMetrics {
  new Counter({
    name: 'streambus_learner_recovery_bytes_total',
    help: 'Entry bytes sent to replicas being added (moves, balancing, decommissioning) by the partitions led here, under cluster.learnerRecoveryRate',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(learnerBudget()?.taken ?? 0);
    },
  });
  new Counter({
    name: 'streambus_learner_recovery_throttled_total',
    help: 'Sends to replicas being added that waited for cluster.learnerRecoveryRate',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(learnerBudget()?.refused ?? 0);
    },
  });
  new Gauge({
    name: 'streambus_replica_lag_entries_max',
    help: 'Raft entries the furthest-behind follower lacks, over the partitions this broker leads',
    registers: [registry],
    collect() {
      let max = 0;
      for (const r of replicas()?.replicas() ?? []) if (r.leading) max = Math.max(max, r.followerLag());
      this.set(max);
    },
  });
  new Gauge({
    name: 'streambus_partition_replicas',
    help: 'Partition replicas hosted by this broker (leaders and followers)',
    registers: [registry],
    collect() {
      this.set(replicas()?.replicas().length ?? 0);
    },
  });
  new Gauge({
    name: 'streambus_partition_replicas_joining',
    help: 'Partition replicas hosted by this broker that are being refilled (a replaced disk, a move): they do not vote until caught up',
    registers: [registry],
    collect() {
      let joining = 0;
      for (const r of replicas()?.replicas() ?? []) if (r.driver.joining) joining++;
      this.set(joining);
    },
  });
  const commitSeconds = new Histogram({
    name: 'streambus_replication_commit_seconds',
    help: 'Time from proposing a produced batch to its commit on a majority, on the partition leader',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { commitSeconds };
}
