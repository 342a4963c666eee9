/**
 * Metadata (3), versions 0-12 (MetadataRequest.json). Brokers, the controller and every partition's
 * leader, replicas and in-sync replicas come from the cluster view (a lone broker lists itself).
 * Topics: null (v1+) means all, an empty list none; in v0 an empty list means all. A topic given by id
 * (a null name, v10+) is looked up by id and answered UNKNOWN_TOPIC_ID when there is none. Unknown
 * topics named are created when the request allows it (v4+ `allow_auto_topic_creation`, implicitly
 * true before v4) and the broker does. A partition without a leader right now (being created, its
 * leader electing) is answered LEADER_NOT_AVAILABLE, which clients retry; KAFKA_STORAGE_ERROR only
 * when the leader's log is offline.
 * A listing of all topics leaves out those this broker is still creating (their CreateTopics has not
 * answered; named, they are LEADER_NOT_AVAILABLE until their partitions open).
 * With authorization, a listing of all topics shows those the client may DESCRIBE; a topic named
 * without that right is answered TOPIC_AUTHORIZATION_FAILED (whether or not it exists), and creating
 * one needs CREATE on the cluster or the topic.
 */
import { ZERO_UUID } from '../../protocol/kafka/codec-support.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { MetadataResponse } from '../../protocol/kafka/generated/index.ts';
import type { Input } from '../../protocol/kafka/types.ts';
import type { TopicRecord } from '../../metadata/cluster-state.ts';
import { isInternalTopic, topicNameProblem } from '../../metadata/topic-name.ts';
import { CLUSTER_RESOURCE } from '../../metadata/acls.ts';
import type { PartitionView } from '../../replication/cluster-view.ts';
import type { BrokerContext } from '../context.ts';
import type { Handler } from '../handler.ts';
import { replicaFields } from '../partition-fields.ts';
import { topicQuotaProblem } from '../tenant-access.ts';
import { allowed, authorizedOperations, mayCreateTopic, OPERATIONS_NOT_ASKED, Op, Resource, visible } from '../access.ts';

type TopicOut = NonNullable<Input<MetadataResponse>['topics']>[number];

const STATUS_ERROR: Record<PartitionView['status'], number> = {
  online: 0,
  unavailable: KafkaErrorCode.LEADER_NOT_AVAILABLE,
  offline: KafkaErrorCode.KAFKA_STORAGE_ERROR,
};

export const metadata: Handler<3> = async (ctx, request, info) => {
  const all = request.topics === null || (info.apiVersion === 0 && request.topics.length === 0);
  const allowAutoCreate = info.apiVersion < 4 || request.allowAutoTopicCreation;
  const topics: TopicOut[] = [];
  const describe = (t: TopicRecord) => describeTopic(ctx, t, authorizedOperations(ctx, info, request.includeTopicAuthorizedOperations, Resource.TOPIC, t.name));
  if (all) {
    for (const t of ctx.metadata.state.topics()) if (!ctx.topics.isBeingCreated(t.name) && visible(ctx, info, Op.DESCRIBE, Resource.TOPIC, t.name)) topics.push(describe(t));
  } else {
    for (const { name, topicId } of request.topics!) {
      if (name === null) {
        const byId = ctx.metadata.state.topicById(topicId);
        if (byId && !allowed(ctx, info, Op.DESCRIBE, Resource.TOPIC, byId.name)) topics.push({ ...unknownTopicId(topicId, info.apiVersion), errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED });
        else topics.push(byId ? describe(byId) : unknownTopicId(topicId, info.apiVersion));
        continue;
      }
      if (!allowed(ctx, info, Op.DESCRIBE, Resource.TOPIC, name)) {
        topics.push(errorTopic(name, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED));
        continue;
      }
      let topic = ctx.metadata.state.topic(name);
      if (!topic) {
        const problem = topicNameProblem(name);
        if (problem) {
          topics.push(errorTopic(name, KafkaErrorCode.INVALID_TOPIC_EXCEPTION));
          continue;
        }
        if (allowAutoCreate && ctx.config.kafka.autoCreateTopics && !mayCreateTopic(ctx, info, name)) {
          topics.push(errorTopic(name, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        if (allowAutoCreate && ctx.config.kafka.autoCreateTopics && topicQuotaProblem(ctx, info.connection, name) !== null) {
          topics.push(errorTopic(name, KafkaErrorCode.POLICY_VIOLATION));
          continue;
        }
        if (allowAutoCreate) topic = (await ctx.topics.autoCreate(name))?.topic;
      }
      topics.push(topic ? describe(topic) : errorTopic(name, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    }
  }
  return {
    throttleTimeMs: 0,
    brokers: ctx.cluster.brokers().map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: b.rack })),
    clusterId: ctx.metadata.state.clusterId,
    controllerId: ctx.cluster.controllerId(),
    topics,
    clusterAuthorizedOperations: authorizedOperations(ctx, info, request.includeClusterAuthorizedOperations, Resource.CLUSTER, CLUSTER_RESOURCE),
  };
};

function errorTopic(name: string, errorCode: number): TopicOut {
  return { errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: OPERATIONS_NOT_ASKED };
}

/** Names are nullable in responses from v12 only; v10-11 answer an empty name. */
function unknownTopicId(topicId: string, apiVersion: number): TopicOut {
  return { ...errorTopic('', KafkaErrorCode.UNKNOWN_TOPIC_ID), name: apiVersion >= 12 ? null : '', topicId };
}

export function describeTopic(ctx: BrokerContext, topic: TopicRecord, topicAuthorizedOperations = OPERATIONS_NOT_ASKED): TopicOut {
  const partitions = [];
  for (let index = 0; index < topic.partitions; index++) {
    const view = ctx.cluster.partition(topic, index);
    partitions.push({ errorCode: STATUS_ERROR[view.status], partitionIndex: index, ...replicaFields(view) });
  }
  return {
    errorCode: 0,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: isInternalTopic(topic.name),
    partitions,
    topicAuthorizedOperations,
  };
}
