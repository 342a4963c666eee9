/**
 * AddPartitionsToTxn (24), versions 0-3 (AddPartitionsToTxnRequest.json): a transactional producer
 * names the partitions it is about to write before it writes them, so that its coordinator knows where
 * to write the markers. Versions 4-5 (KIP-890, a batch of transactions, sent between brokers) are not
 * advertised. As Kafka: with authorization the producer needs WRITE on the transactional id
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition) and on each topic
 * (TOPIC_AUTHORIZATION_FAILED); an unknown topic or partition answers UNKNOWN_TOPIC_OR_PARTITION; when any
 * partition fails, the others answer OPERATION_NOT_ATTEMPTED and nothing is added. Before v2 a fenced
 * producer gets INVALID_PRODUCER_EPOCH instead of PRODUCER_FENCED (KIP-588).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

export const addPartitionsToTxn: Handler<24> = async (ctx, request, info) => {
  const id = request.v3AndBelowTransactionalId;
  const topics = request.v3AndBelowTopics;
  const answer = (code: (topic: string, partition: number) => number) => ({
    throttleTimeMs: 0,
    errorCode: 0,
    resultsByTransaction: [],
    resultsByTopicV3AndBelow: topics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: code(t.name, p) })) })),
  });
  if (!allowed(ctx, info, Op.WRITE, Resource.TRANSACTIONAL_ID, id)) return answer(() => KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const failed = new Map<string, number>();
  for (const t of topics) {
    const known = ctx.metadata.state.topic(t.name);
    const topicCode = !allowed(ctx, info, Op.WRITE, Resource.TOPIC, t.name) ? KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED : known === undefined ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0;
    for (const p of t.partitions) {
      const code = topicCode !== 0 ? topicCode : p < 0 || p >= known!.partitions ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0;
      if (code !== 0) failed.set(`${t.name}\0${p}`, code);
    }
  }
  if (failed.size > 0) return answer((topic, p) => failed.get(`${topic}\0${p}`) ?? KafkaErrorCode.OPERATION_NOT_ATTEMPTED);
  const producer = { producerId: request.v3AndBelowProducerId, producerEpoch: request.v3AndBelowProducerEpoch };
  const partitions = topics.map((t) => ({ topic: t.name, partitions: t.partitions }));
  const code = await ctx.transactions.router.coordinatorOf(id).addPartitions(id, producer, partitions, info.apiVersion >= 2 ? 'PRODUCER_FENCED' : 'INVALID_PRODUCER_EPOCH');
  return answer(() => code);
};
