/**
 * The cluster's status, the one implementation behind `streambus cluster status` and GET
 * /api/v1/cluster: cluster id, controller, brokers, topic and partition counts from the Kafka API, with
 * each broker's state (active, draining, drained, or dead when the brokers cannot reach it) from the
 * admin API's broker list. A dead broker is missing from Metadata, as Kafka lists live brokers only, so
 * it is added from that list.
 */
import type { KafkaClient } from '../client/index.ts';
import { isStreamBusError } from '../util/errors.ts';
import type { BrokerStatus } from './broker-status.ts';

export interface ClusterBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** The admin API's state, `dead` when unreachable and not drained, `-` when unknown (no broker list). */
  state: string;
  leads: number;
  replicas: number;
  /** Led here with fewer in-sync replicas than assigned ones. */
  underReplicated: number;
}

export interface ClusterStatus {
  clusterId: string | null;
  controllerId: number;
  brokers: ClusterBroker[];
  topics: number;
  internalTopics: number;
  partitions: number;
  leaderless: number;
  underReplicated: number;
}

export async function clusterStatus(client: KafkaClient, states: readonly BrokerStatus[]): Promise<ClusterStatus> {
  const md = await client.metadata(null);
  // DescribeCluster (KIP-700) is authoritative where the broker has it; Metadata says the same otherwise.
  let cluster = { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers };
  try {
    cluster = await client.describeCluster();
  } catch (err) {
    if (!isStreamBusError(err, 'SB_ERR_UNSUPPORTED_VERSION')) throw err;
  }
  const topics = md.topics.filter((t) => t.error === null);
  const all = topics.flatMap((t) => t.partitions);
  const perBroker = (id: number) => ({
    leads: all.filter((p) => p.leader === id).length,
    replicas: all.filter((p) => p.replicas.includes(id)).length,
    underReplicated: all.filter((p) => p.leader === id && p.isr.length < p.replicas.length).length,
  });
  const stateOf = (id: number): string => {
    const known = states.find((a) => a.id === id);
    // A drained broker is expected to be stopped; any other that cannot be reached is dead.
    return known === undefined ? '-' : known.reachable || known.state === 'drained' ? known.state : 'dead';
  };
  const live = cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }));
  const dead = states.filter((a) => !live.some((b) => b.nodeId === a.id)).map((a) => ({ nodeId: a.id, host: a.host, port: a.port, rack: a.rack }));
  return {
    clusterId: cluster.clusterId,
    controllerId: cluster.controllerId,
    brokers: [...live, ...dead].sort((a, b) => a.nodeId - b.nodeId).map((b) => ({ ...b, state: stateOf(b.nodeId), ...perBroker(b.nodeId) })),
    topics: topics.filter((t) => !t.isInternal).length,
    internalTopics: topics.filter((t) => t.isInternal).length,
    partitions: all.length,
    leaderless: all.filter((p) => p.leader < 0).length,
    underReplicated: all.filter((p) => p.leader >= 0 && p.isr.length < p.replicas.length).length,
  };
}
