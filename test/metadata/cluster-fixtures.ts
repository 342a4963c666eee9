// Commands and states the metadata tests build clusters from. Not a test file itself.
import assert from 'node:assert/strict';
import { ClusterState, type MetadataCommand } from '../../src/metadata/cluster-state.ts';

/** A broker's registration; `incarnation` picks another data directory's id for the same broker id. */
export const registerBroker = (id: number, rack: string | null = null, incarnation = id): MetadataCommand => ({
  type: 'register-broker',
  id,
  incarnationId: `00000000-0000-4000-8000-${String(incarnation).padStart(12, '0')}`,
  host: `broker-${id}`,
  port: 9092,
  grpcPort: 9093,
  rack,
  timestampMs: 10,
});

/** Brokers 1..racks.length (with those racks) registered, and topic `t` with these replica lists. */
export function clusterWithTopic(racks: readonly (string | null)[], assignments: number[][]): ClusterState {
  const s = new ClusterState('c', null);
  racks.forEach((rack, i) => assert.equal(s.apply(registerBroker(i + 1, rack)).error, null));
  const created = s.apply({ type: 'create-topic', name: 't', topicId: '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b', partitions: assignments.length, replicationFactor: assignments[0]!.length, assignments, configs: {}, timestampMs: 1 });
  assert.equal(created.error, null);
  return s;
}
