/**
 * ListPartitionReassignments (46), version 0 (ListPartitionReassignmentsRequest.json): the partitions
 * being moved (all of them, or those asked for), each with its replica set (target first, then the
 * replicas leaving) and the replicas being added and removed, as Kafka reports them. With
 * authorization it needs DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { clusterAllowed, Op } from '../access.ts';
import { movingReplicas, partitionsMoving, replicaSet } from '../../metadata/reassignment.ts';
import type { Handler } from '../handler.ts';

export const listPartitionReassignments: Handler<46> = async (ctx, request, info) => {
  if (!clusterAllowed(ctx, info, Op.DESCRIBE)) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'DESCRIBE on the cluster is needed to list partition moves.', topics: [] };
  }
  const state = ctx.metadata.state;
  const asked = request.topics === null ? state.topics().map((t) => ({ name: t.name, partitionIndexes: null as number[] | null })) : request.topics;
  const topics = [];
  for (const a of asked) {
    const topic = state.topic(a.name);
    if (topic === undefined) continue;
    const moving = partitionsMoving(topic).filter((i) => a.partitionIndexes === null || a.partitionIndexes.includes(i));
    if (moving.length === 0) continue;
    topics.push({
      name: topic.name,
      partitions: moving.map((index) => {
        const { adding, removing } = movingReplicas(topic, index);
        return { partitionIndex: index, replicas: [...replicaSet(topic, index)], addingReplicas: adding, removingReplicas: removing };
      }),
    });
  }
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics };
};
