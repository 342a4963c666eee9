/** CreatePartitions (37), versions 0-3 (CreatePartitionsRequest.json). Manual assignments are refused. */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { metadataErrorCode } from '../kafka-errors.ts';

export const createPartitions: Handler<37> = async (ctx, request) => {
  const results = [];
  for (const t of request.topics) {
    if (t.assignments !== null && t.assignments.length > 0) {
      results.push({ name: t.name, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Manual replica assignment is not supported.' });
      continue;
    }
    const r = await ctx.topics.addPartitions(t.name, t.count, request.validateOnly);
    results.push({ name: t.name, errorCode: metadataErrorCode(r.error), errorMessage: r.message ?? null });
  }
  return { throttleTimeMs: 0, results };
};
