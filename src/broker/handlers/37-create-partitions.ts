/**
 * CreatePartitions (37), versions 0-3 (CreatePartitionsRequest.json). Manual assignments are refused.
 * With authorization each topic needs ALTER.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { metadataErrorCode } from '../kafka-errors.ts';
import { allowed, Op, Resource } from '../access.ts';

export const createPartitions: Handler<37> = async (ctx, request, info) => {
  const results = [];
  for (const t of request.topics) {
    if (!allowed(ctx, info, Op.ALTER, Resource.TOPIC, t.name)) {
      results.push({ name: t.name, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'ALTER on the topic is needed.' });
      continue;
    }
    if (t.assignments !== null && t.assignments.length > 0) {
      results.push({ name: t.name, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Manual replica assignment is not supported.' });
      continue;
    }
    const r = await ctx.topics.addPartitions(t.name, t.count, request.validateOnly);
    results.push({ name: t.name, errorCode: metadataErrorCode(r.error), errorMessage: r.message ?? null });
  }
  return { throttleTimeMs: 0, results };
};
