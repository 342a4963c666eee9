// Goal: the handshake rules: who dials whom, what an acceptor refuses and why, what a dialer rejects in
// the answer, and a cluster fingerprint that depends only on the set of voter ids.
// Method: each rule on small hand-made hellos.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFingerprint, clusterIdentity, dials, inboundRefusal, replyMismatch, sameCluster, type Hello } from '../../../src/protocol/cluster/handshake.ts';

const cluster = clusterFingerprint([1, 2, 3]);
const self = { brokerId: 2, cluster, nodeIds: new Set([1, 2, 3]) };
const hello = (changes: Partial<Hello> = {}): Hello => ({ version: 1, cluster, brokerId: 1, incarnationId: 'i-1', lane: 'control', ...changes });

test('the fingerprint depends on the set of ids only', () => {
  assert.equal(clusterFingerprint([3, 1, 2, 2]), cluster);
  assert.notEqual(clusterFingerprint([1, 2, 4]), cluster);
  assert.notEqual(clusterFingerprint([1, 2]), cluster);
  assert.notEqual(clusterFingerprint([12, 3]), clusterFingerprint([1, 23]));
});

test('once a broker knows the cluster id it presents the id: cluster.nodes may then differ between brokers', () => {
  const a = clusterIdentity('c-1', [1, 2, 3]);
  assert.equal(a, clusterIdentity('c-1', [1, 2, 3, 4]), 'the id alone identifies the cluster');
  assert.equal(clusterIdentity(null, [3, 2, 1]), cluster, 'without an id, the fingerprint of cluster.nodes');
  assert.ok(sameCluster(a, clusterIdentity('c-1', [1, 2])));
  assert.ok(!sameCluster(a, clusterIdentity('c-2', [1, 2, 3])), 'two clusters with the same node list stay apart');
  assert.ok(sameCluster(cluster, clusterFingerprint([1, 2, 3])));
  assert.ok(!sameCluster(cluster, clusterFingerprint([1, 2, 3, 4])), 'two new brokers with different lists refuse each other');
  assert.ok(sameCluster(clusterFingerprint([1, 2, 3, 4]), a) && sameCluster(a, clusterFingerprint([9])), 'a broker without an id (new, or a replaced disk) learns it from one that has it');
  const known = { ...self, cluster: a };
  assert.equal(inboundRefusal(hello({ cluster: clusterIdentity('c-1', [1, 2]) }), known), null);
  assert.equal(inboundRefusal(hello({ cluster: clusterIdentity('c-2', [1, 2, 3]) }), known)?.code, 'wrong-cluster');
  assert.equal(inboundRefusal(hello({ cluster: clusterFingerprint([1, 2, 3, 4]) }), known), null);
  assert.match(replyMismatch(hello({ brokerId: 3, lane: 'data', cluster: clusterIdentity('c-2', [1]) }), { brokerId: 3, cluster: a, lane: 'data' })!, /cluster/);
});

test('between brokers both in or both outside cluster.nodes the lower id dials; otherwise the one outside dials; exactly one of each pair', () => {
  const listed = new Set([1, 2, 3]);
  for (const [a, b] of [[1, 2], [2, 3], [4, 5], [5, 9], [4, 1], [9, 3]] as const) {
    assert.equal(dials(a, b, listed), true, `${a} dials ${b}`);
    assert.equal(dials(b, a, listed), false, `${b} waits for ${a}`);
  }
});

test('an acceptor takes a lower peer of its cluster and refuses the rest, saying why', () => {
  assert.equal(inboundRefusal(hello(), self), null);
  assert.equal(inboundRefusal(hello({ cluster: clusterFingerprint([1, 2]) }), self)?.code, 'wrong-cluster');
  assert.equal(inboundRefusal(hello({ brokerId: 9 }), self), null, 'a broker outside cluster.nodes dials the listed ones');
  assert.equal(inboundRefusal(hello({ brokerId: 2 }), self)?.code, 'unknown-broker', 'itself');
  assert.equal(inboundRefusal(hello({ brokerId: 0 }), self)?.code, 'unknown-broker', 'the id Raft reserves');
  assert.equal(inboundRefusal(hello({ brokerId: 3 }), self)?.code, 'wrong-direction');
  assert.match(inboundRefusal(hello({ brokerId: 0 }), self)!.text, /broker id 0/);
  const outside = { brokerId: 5, cluster, nodeIds: self.nodeIds };
  assert.equal(inboundRefusal(hello({ brokerId: 4 }), outside), null, 'two brokers outside the list: the lower dials');
  assert.equal(inboundRefusal(hello({ brokerId: 1 }), outside)?.code, 'wrong-direction', 'a listed broker waits for the one outside');
  assert.match(inboundRefusal(hello({ brokerId: 1 }), outside)!.text, /outside cluster.nodes dials/);
});

test('a dialer checks that the answer comes from the broker and lane it dialed', () => {
  const expected = { brokerId: 3, cluster, lane: 'data' as const };
  assert.equal(replyMismatch(hello({ brokerId: 3, lane: 'data' }), expected), null);
  assert.match(replyMismatch(hello({ brokerId: 4, lane: 'data' }), expected)!, /reached broker 4 where broker 3/);
  assert.match(replyMismatch(hello({ brokerId: 3, lane: 'data', cluster: 'nodes:3' }), expected)!, /cluster/);
  assert.match(replyMismatch(hello({ brokerId: 3, lane: 'control' }), expected)!, /lane/);
});
