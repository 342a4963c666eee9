/**
 * DeleteAcls (31), versions 0-3 (DeleteAclsRequest.json): removes every stored ACL each filter selects
 * and answers them per filter. The filters are resolved against the state read here and the exact
 * entries removed through the metadata, so every broker removes the same ones. Needs ALTER on the
 * cluster.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { aclFilterProblem, filterMatches, type AclBinding } from '../../metadata/acls.ts';
import { aclFilter, aclRequestRefusal, wireAcl } from '../acl-requests.ts';
import { Op, requester } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';
import type { Handler } from '../handler.ts';

export const deleteAcls: Handler<31> = async (ctx, request, info) => {
  const refusal = aclRequestRefusal(ctx, info, Op.ALTER);
  if (refusal) return { throttleTimeMs: 0, filterResults: request.filters.map(() => ({ ...refusal, matchingAcls: [] })) };
  const stored = ctx.metadata.state.acls();
  const perFilter = request.filters.map((f) => {
    const filter = aclFilter(f);
    const problem = aclFilterProblem(filter);
    return problem ? { problem, matches: [] as AclBinding[] } : { problem: null, matches: stored.filter((b) => filterMatches(filter, b)) };
  });
  const doomed = [...new Set(perFilter.flatMap((f) => f.matches))];
  let outcome: { errorCode: number; errorMessage: string | null } = { errorCode: 0, errorMessage: null };
  if (doomed.length > 0) {
    const result = await ctx.metadata.submit({ type: 'delete-acls', bindings: doomed });
    outcome = { errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null };
    if (result.error === null) ctx.log.info({ principal: requester(info.connection).principal, count: doomed.length }, 'ACLs deleted');
  }
  return {
    throttleTimeMs: 0,
    filterResults: perFilter.map((f) => {
      if (f.problem !== null) return { errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Invalid ACL filter: ${f.problem}.`, matchingAcls: [] };
      if (outcome.errorCode !== 0) return { ...outcome, matchingAcls: [] };
      return {
        errorCode: 0,
        errorMessage: null,
        matchingAcls: f.matches.map((b) => ({ errorCode: 0, errorMessage: null, resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, ...wireAcl(b) })),
      };
    }),
  };
};
