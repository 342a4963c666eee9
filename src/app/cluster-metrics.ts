/**
 * Cluster gauges, read at scrape time from this broker's view of the cluster (the same view Metadata
 * answers from): registered and reachable brokers, the partitions this broker leads, and, over every
 * partition, those without a leader and those with fewer in-sync replicas than assigned ones.
 * streambus_raft_leader / streambus_raft_term (the guide's names) are set by the controller group's
 * leadership changes (cluster-node.ts), or to 1 / 0 by a lone broker that is its own controller.
 * streambus_brokers_draining and streambus_partitions_moving show decommissioning and reassignment
 * progress. streambus_raft_groups / streambus_raft_groups_quiesced count the Raft groups this broker hosts and
 * those quiesced (idle, not ticking; docs/replication.md, "Quiescence"), in a replicated cluster only.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ClusterView } from '../replication/cluster-view.ts';
import type { MetadataService } from '../replication/metadata-service.ts';

export interface ClusterMetricsSource {
  /** Undefined until the broker has its metadata (start-up). */
  readonly metadata: () => MetadataService | undefined;
  readonly view: () => ClusterView | undefined;
  /** Raft groups hosted here and quiesced now; undefined without replication. */
  readonly raftGroups?: () => { hosted: number; quiesced: number } | undefined;
}

export function registerClusterMetrics(registry: Registry, source: ClusterMetricsSource): void {
  // One walk over the partitions per scrape, shared by the partition gauges.
  let last: { at: number; counts: { led: number; leaderless: number; underReplicated: number } } | null = null;
  const counts = () => {
    const metadata = source.metadata();
    const view = source.view();
    if (metadata === undefined || view === undefined) return null;
    if (last !== null && Date.now() - last.at < 500) return last.counts;
    const c = { led: 0, leaderless: 0, underReplicated: 0 };
    for (const topic of metadata.state.topics()) {
      for (let i = 0; i < topic.partitions; i++) {
        const p = view.partition(topic, i);
        if (p.leader === view.brokerId) c.led++;
        if (p.leader < 0) c.leaderless++;
        else if (p.isr.length < p.replicas.length) c.underReplicated++;
      }
    }
    last = { at: Date.now(), counts: c };
    return c;
  };
  const partitionGauge = (name: string, help: string, pick: (c: NonNullable<ReturnType<typeof counts>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const c = counts();
        if (c !== null) this.set(pick(c));
      },
    });
  partitionGauge('streambus_partitions_led', 'Partitions this broker leads', (c) => c.led);
  partitionGauge('streambus_partitions_leaderless', 'Partitions without a leader, as this broker sees the cluster', (c) => c.leaderless);
  partitionGauge('streambus_partitions_under_replicated', 'Partitions with fewer in-sync replicas than assigned replicas, as this broker sees the cluster', (c) => c.underReplicated);
  const raftGauge = (name: string, help: string, pick: (g: { hosted: number; quiesced: number }) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const groups = source.raftGroups?.();
        if (groups !== undefined) this.set(pick(groups));
      },
    });
  raftGauge('streambus_raft_groups', 'Raft groups this broker hosts (the controller group and a group per partition replica)', (g) => g.hosted);
  raftGauge('streambus_raft_groups_quiesced', 'Raft groups hosted here that are quiesced: idle, neither ticking nor heartbeating', (g) => g.quiesced);
  const metadataGauge = (name: string, help: string, pick: (metadata: MetadataService) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const metadata = source.metadata();
        if (metadata !== undefined) this.set(pick(metadata));
      },
    });
  metadataGauge('streambus_cluster_brokers', 'Brokers registered with the controller', (m) => m.state.brokers().length);
  metadataGauge('streambus_brokers_draining', 'Brokers being decommissioned (draining or drained)', (m) => m.state.brokers().filter((b) => b.draining === true).length);
  metadataGauge('streambus_partitions_moving', 'Partitions being moved between brokers (reassignments and decommissioning under way)', (m) => m.state.reassignmentCount());
}
