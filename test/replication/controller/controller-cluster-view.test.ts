// Goal: Metadata's broker list from a broker of a cluster: the registered brokers it reaches while it
// is in touch with the controller's leader or a majority of its voters; when cut off from both, every
// other registered broker and not itself (an isolated broker's view cannot be trusted, and clients that
// keep asking it wait until the split heals).
// Method: ControllerClusterView over a ClusterState with three registered brokers, reachability and
// the controller's leader set by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerClusterView } from '../../../src/replication/controller/controller-cluster-view.ts';
import { LeadershipTable } from '../../../src/replication/leadership-table.ts';
import type { MetadataService } from '../../../src/replication/metadata-service.ts';
import type { PartitionManager } from '../../../src/replication/partition-manager.ts';
import { ClusterState } from '../../../src/metadata/cluster-state.ts';
import { registerBroker } from '../../metadata/cluster-fixtures.ts';

function view(reachable: Set<number>, controller: () => number) {
  const quorum = () => (reachable.size + 1) * 2 > 3;
  const state = new ClusterState('c', null);
  for (const id of [1, 2, 3]) assert.equal(state.apply(registerBroker(id)).error, null);
  return new ControllerClusterView({
    brokerId: 1,
    metadata: { state } as unknown as MetadataService,
    partitions: {} as PartitionManager,
    leaders: new LeadershipTable(),
    controllerId: controller,
    isAlive: (id) => reachable.has(id),
    reachesQuorum: quorum,
  });
}

const ids = (v: ControllerClusterView) => v.brokers().map((b) => b.id);

test('in touch with the controller: the brokers it reaches', () => {
  assert.deepEqual(ids(view(new Set([2, 3]), () => 2)), [1, 2, 3]);
  assert.deepEqual(ids(view(new Set([2]), () => 2)), [1, 2], 'broker 3 is down: clients are not sent to it');
  assert.deepEqual(ids(view(new Set([2]), () => 1)), [1, 2], 'this broker leads the controller');
});

test('cut off from the cluster: every other registered broker and not itself, so clients go to the others', () => {
  assert.deepEqual(ids(view(new Set(), () => -1)), [2, 3], 'no controller leader known, no majority reached');
  assert.deepEqual(ids(view(new Set(), () => 3)), [2, 3], 'the leader it knows is unreachable');
  assert.deepEqual(ids(view(new Set([2]), () => -1)), [1, 2], 'electing a controller with a majority: its own view holds');
});
