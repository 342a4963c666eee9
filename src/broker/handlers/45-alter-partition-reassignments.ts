/**
 * AlterPartitionReassignments (45), version 0 (AlterPartitionReassignmentsRequest.json): starts moves
 * of partitions to new replica lists, or cancels them (replicas null), through the controller
 * (metadata/reassignment.ts). The partitions' leaders then change their Raft groups one member at a
 * time (replication/partition-moves.ts); ListPartitionReassignments shows the moves until they end.
 * Each partition is checked on its own so that one bad entry does not refuse the others; the valid
 * ones of a topic are decided in one controller command. With authorization it needs ALTER on the
 * cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { clusterAllowed, Op } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';

export const alterPartitionReassignments: Handler<45> = async (ctx, request, info) => {
  if (!clusterAllowed(ctx, info, Op.ALTER)) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'ALTER on the cluster is needed to move partitions.', responses: [] };
  }
  const responses = [];
  for (const t of request.topics) {
    const partitions: { partitionIndex: number; errorCode: number; errorMessage: string | null }[] = [];
    const valid: { index: number; replicas: number[] | null }[] = [];
    for (const p of t.partitions) {
      const move = { index: p.partitionIndex, replicas: p.replicas };
      const verdict = ctx.metadata.state.validate({ type: 'reassign-partitions', name: t.name, moves: [move] });
      if (verdict.error !== null) partitions.push({ partitionIndex: p.partitionIndex, errorCode: metadataErrorCode(verdict.error), errorMessage: verdict.message ?? null });
      else if (valid.some((v) => v.index === move.index)) partitions.push({ partitionIndex: p.partitionIndex, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Partition ${move.index} is listed twice.` });
      else valid.push(move);
    }
    if (valid.length > 0) {
      const result = await ctx.metadata.submit({ type: 'reassign-partitions', name: t.name, moves: valid }, request.timeoutMs);
      if (result.error === null) ctx.log.info({ topic: t.name, moves: valid }, 'partition reassignment requested');
      for (const move of valid) partitions.push({ partitionIndex: move.index, errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null });
    }
    partitions.sort((a, b) => a.partitionIndex - b.partitionIndex);
    responses.push({ name: t.name, partitions });
  }
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses };
};
