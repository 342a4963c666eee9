/**
 * AddOffsetsToTxn (25), versions 0-4 (AddOffsetsToTxnRequest.json): a transactional producer is about
 * to commit a consumer group's offsets inside its transaction (TxnOffsetCommit to the group's
 * coordinator); its transaction coordinator adds the group's `__consumer_offsets` partition, so the
 * markers reach it and the offsets become visible on commit. As Kafka: WRITE on the transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and READ on the group (GROUP_AUTHORIZATION_FAILED) when
 * authorization is on; before v2 a fenced producer gets INVALID_PRODUCER_EPOCH (KIP-588).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { offsetsPartitionFor } from '../../metadata/offsets-partition.ts';
import { OFFSETS_TOPIC } from '../../metadata/topic-name.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

export const addOffsetsToTxn: Handler<25> = async (ctx, request, info) => {
  const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });
  const id = request.transactionalId;
  if (!allowed(ctx, info, Op.WRITE, Resource.TRANSACTIONAL_ID, id)) return answer(KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) return answer(KafkaErrorCode.GROUP_AUTHORIZATION_FAILED);
  const offsets = ctx.metadata.state.topic(OFFSETS_TOPIC);
  if (offsets === undefined) return answer(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
  const partitions = [{ topic: OFFSETS_TOPIC, partitions: [offsetsPartitionFor(request.groupId, offsets.partitions)] }];
  const producer = { producerId: request.producerId, producerEpoch: request.producerEpoch };
  return answer(await ctx.transactions.router.coordinatorOf(id).addPartitions(id, producer, partitions, info.apiVersion >= 2 ? 'PRODUCER_FENCED' : 'INVALID_PRODUCER_EPOCH'));
};
