/**
 * FindCoordinator (10), versions 0-5 (FindCoordinatorRequest.json). The cluster view names the broker
 * coordinating a group or a transactional id (the leader of the key's partition of `__consumer_offsets`
 * or `__transaction_state`); when that is this broker, its coordinator must also be up. The first
 * request for a transactional id has `__transaction_state` created (COORDINATOR_NOT_AVAILABLE meanwhile;
 * clients retry), as Kafka creates it on first use.
 * With authorization a group key needs DESCRIBE on the group, a transaction key DESCRIBE on the
 * transactional id.
 * v0-3 carry one key (v0 has no key_type: always a group); v4+ a batch of coordinator_keys (KIP-699) answered one by one.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { COORDINATOR_KEY_TYPE_GROUP, COORDINATOR_KEY_TYPE_TRANSACTION } from '../../groups/group-api.ts';
import { OFFSETS_TOPIC, TXN_STATE_TOPIC } from '../../metadata/topic-name.ts';
import type { BrokerContext } from '../context.ts';
import type { Handler, RequestInfo } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

type Answer = { nodeId: number; host: string; port: number; errorCode: number; errorMessage: string | null };

function coordinatorFor(ctx: BrokerContext, info: RequestInfo, keyType: number, key: string): Answer {
  const none = (errorCode: number, errorMessage: string | null = null): Answer => ({ nodeId: -1, host: '', port: -1, errorCode, errorMessage });
  if (keyType === COORDINATOR_KEY_TYPE_GROUP && !allowed(ctx, info, Op.DESCRIBE, Resource.GROUP, key)) return none(KafkaErrorCode.GROUP_AUTHORIZATION_FAILED);
  if (keyType === COORDINATOR_KEY_TYPE_TRANSACTION && !allowed(ctx, info, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, key)) return none(KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (keyType === COORDINATOR_KEY_TYPE_TRANSACTION) {
    if (ctx.metadata.state.topic(TXN_STATE_TOPIC) === undefined) {
      ctx.transactions.want();
      return none(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, `${TXN_STATE_TOPIC} is being created`);
    }
  } else if (keyType !== COORDINATOR_KEY_TYPE_GROUP) {
    return none(ctx.groups.findCoordinator(keyType, key).errorCode);
  }
  const group = keyType === COORDINATOR_KEY_TYPE_GROUP;
  const node = ctx.cluster.coordinator(group ? OFFSETS_TOPIC : TXN_STATE_TOPIC, key);
  if (node === null) return none(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, `no broker coordinates this ${group ? 'group' : 'transactional id'} right now`);
  if (node.id === ctx.nodeId) {
    const errorCode = group ? ctx.groups.findCoordinator(keyType, key).errorCode : ctx.transactions.router.coordinatorOf(key).findCoordinator();
    if (errorCode !== 0) return none(errorCode);
  }
  return { nodeId: node.id, host: node.host, port: node.port, errorCode: 0, errorMessage: null };
}

export const findCoordinator: Handler<10> = (ctx, request, info) => {
  if (info.apiVersion >= 4) {
    return { throttleTimeMs: 0, coordinators: request.coordinatorKeys.map((key) => ({ key, ...coordinatorFor(ctx, info, request.keyType, key) })) };
  }
  return { throttleTimeMs: 0, ...coordinatorFor(ctx, info, request.keyType, request.key) };
};
