/**
 * What AlterConfigs (33) and IncrementalAlterConfigs (44) share once each has worked out, from its
 * own operations, which configs of a resource to set and which to return to their default: the
 * checks and the change itself. Topic configs are validated by the metadata layer (type and range of
 * every Kafka topic config, unknown names INVALID_CONFIG) and changed through the controller; broker
 * configs and logger levels are read-only (broker-configs.ts) and answered as Kafka answers a static
 * config.
 */
import { allowed, clusterAllowed, Op, Resource } from './access.ts';
import type { RequestInfo } from './handler.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { TopicRecord } from '../metadata/cluster-state.ts';
import { topicConfigSpec } from '../metadata/topic-configs.ts';
import { brokerAlterationProblem } from './broker-configs.ts';
import type { BrokerContext } from './context.ts';
import { metadataErrorCode } from './kafka-errors.ts';

export const ResourceType = { Topic: 2, Broker: 4, BrokerLogger: 8 } as const;

export interface ConfigChanges {
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface AlterationOutcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

/**
 * Plans the changes of one resource from the topic as it stands (null for broker resources), or
 * returns a problem (INVALID_REQUEST: an operation that cannot apply, such as a null value).
 */
export type ChangePlan = (topic: TopicRecord | null) => ConfigChanges | { readonly problem: string };

const invalid = (errorCode: number, errorMessage: string): AlterationOutcome => ({ errorCode, errorMessage });

/**
 * With authorization, altering needs ALTER_CONFIGS on the topic, or on the cluster for broker and
 * logger configs (TOPIC_ / CLUSTER_AUTHORIZATION_FAILED), checked before anything else.
 */
export async function alterResourceConfigs(ctx: BrokerContext, info: RequestInfo, resourceType: number, resourceName: string, plan: ChangePlan, validateOnly: boolean): Promise<AlterationOutcome> {
  if (resourceType === ResourceType.Topic && !allowed(ctx, info, Op.ALTER_CONFIGS, Resource.TOPIC, resourceName)) {
    return invalid(KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, `ALTER_CONFIGS on topic '${resourceName}' is needed.`);
  }
  if ((resourceType === ResourceType.Broker || resourceType === ResourceType.BrokerLogger) && !clusterAllowed(ctx, info, Op.ALTER_CONFIGS)) {
    return invalid(KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'ALTER_CONFIGS on the cluster is needed.');
  }
  if (resourceType === ResourceType.Broker || resourceType === ResourceType.BrokerLogger) {
    if (resourceName !== '' && resourceName !== String(ctx.nodeId)) {
      return invalid(KafkaErrorCode.INVALID_REQUEST, `Broker '${resourceName}' is not this broker (${ctx.nodeId}); ask it directly.`);
    }
    const changes = plan(null);
    if ('problem' in changes) return invalid(KafkaErrorCode.INVALID_REQUEST, changes.problem);
    const names = [...Object.keys(changes.set), ...changes.remove];
    if (resourceType === ResourceType.BrokerLogger && names.length > 0) {
      return invalid(KafkaErrorCode.INVALID_REQUEST, `Logger levels are read-only here: they come from logging.level in broker.yaml (${names.join(', ')}).`);
    }
    const problem = brokerAlterationProblem(names);
    return problem === null ? { errorCode: 0, errorMessage: null } : invalid(KafkaErrorCode.INVALID_REQUEST, problem);
  }
  if (resourceType !== ResourceType.Topic) return invalid(KafkaErrorCode.INVALID_REQUEST, `Resource type ${resourceType} has no configs to alter.`);
  const topic = ctx.metadata.state.topic(resourceName);
  if (!topic) return invalid(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${resourceName}' does not exist.`);
  const changes = plan(topic);
  if ('problem' in changes) return invalid(KafkaErrorCode.INVALID_REQUEST, changes.problem);
  const unknown = changes.remove.find((name) => topicConfigSpec(name) === undefined);
  if (unknown !== undefined) return invalid(KafkaErrorCode.INVALID_CONFIG, `unknown topic config ${unknown}`);
  const result = await ctx.topics.alterConfigs(resourceName, { ...changes.set }, [...changes.remove], validateOnly);
  return { errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null };
}
