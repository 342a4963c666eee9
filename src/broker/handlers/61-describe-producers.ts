/**
 * DescribeProducers (61), version 0 (KIP-664; kafka-transactions describe-producers and
 * find-hanging): the producers a partition's leader keeps state for, each with its epoch, last
 * sequence, last write time and, when it has a transaction open here, that transaction's first
 * offset. The coordinator epoch is not kept per producer here: -1. Answered by the partition's
 * leader (NOT_LEADER_OR_FOLLOWER elsewhere); READ on the topic with authorization (else
 * TOPIC_AUTHORIZATION_FAILED); UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist.
 */
import type { Handler } from '../handler.ts';
import { partitionRefusal } from '../commit-partitions.ts';
import { leaderPartition } from '../partition-access.ts';

export const describeProducers: Handler<61> = (ctx, request, info) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((t) => {
    const refusal = partitionRefusal(ctx, info, [t.name]);
    const topic = ctx.metadata.state.topic(t.name);
    return {
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        const failed = (errorCode: number, errorMessage: string | null = null) => ({ partitionIndex, errorCode, errorMessage, activeProducers: [] });
        const refused = refusal(t.name, partitionIndex);
        if (refused !== 0 || topic === undefined) return failed(refused);
        const access = leaderPartition(ctx, topic, partitionIndex);
        if (access.partition === undefined) return failed(access.errorCode, access.message);
        const p = access.partition;
        return {
          partitionIndex,
          errorCode: 0,
          errorMessage: null,
          activeProducers: p.producers.list().map((s) => ({
            producerId: s.producerId,
            producerEpoch: s.epoch,
            lastSequence: s.lastSequence,
            lastTimestamp: BigInt(s.lastTimestampMs),
            coordinatorEpoch: -1,
            currentTxnStartOffset: BigInt(p.transactions.openedAt(s.producerId) ?? -1),
          })),
        };
      }),
    };
  }),
});
