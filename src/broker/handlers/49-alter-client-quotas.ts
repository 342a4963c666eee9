/**
 * AlterClientQuotas (49), versions 0-1 (AlterClientQuotasRequest.json): sets and removes client quotas in
 * the cluster metadata, effective on every broker as soon as it applies the change. Each entry is
 * answered on its own: INVALID_REQUEST with the reason for a malformed entity or quota (unknown
 * entity types or keys, the unsupported ip entity and controller_mutation_rate, a value that is not
 * positive). `validateOnly` checks without storing. Needs ALTER_CONFIGS on the cluster, as Kafka.
 */
import { quotaChangeProblem, type QuotaChange } from '../../metadata/client-quotas.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { clusterAllowed, Op, requester } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';
import type { Handler } from '../handler.ts';

export const alterClientQuotas: Handler<49> = async (ctx, request, info) => {
  const answer = (entity: { entityType: string; entityName: string | null }[], errorCode: number, errorMessage: string | null) => ({ errorCode, errorMessage, entity });
  if (!clusterAllowed(ctx, info, Op.ALTER_CONFIGS)) {
    return { throttleTimeMs: 0, entries: request.entries.map((e) => answer(e.entity, KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'ALTER_CONFIGS on the cluster is needed to change client quotas.')) };
  }
  const changes: QuotaChange[] = request.entries.map((e) => ({
    entity: e.entity.map((p) => ({ type: p.entityType as never, name: p.entityName })),
    ops: e.ops.map((o) => ({ key: o.key, value: o.remove ? null : o.value })),
  }));
  const problems = changes.map(quotaChangeProblem);
  const valid = changes.filter((_, i) => problems[i] === null);
  let stored: { errorCode: number; errorMessage: string | null } = { errorCode: 0, errorMessage: null };
  if (valid.length > 0 && !request.validateOnly) {
    const result = await ctx.metadata.submit({ type: 'alter-client-quotas', changes: valid });
    stored = { errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null };
    if (result.error === null) ctx.log.info({ principal: requester(info.connection).principal, changes: valid }, 'client quotas changed');
  }
  return {
    throttleTimeMs: 0,
    entries: request.entries.map((e, i) => (problems[i] === null ? answer(e.entity, stored.errorCode, stored.errorMessage) : answer(e.entity, KafkaErrorCode.INVALID_REQUEST, `Invalid quota change: ${problems[i]}.`))),
  };
};
