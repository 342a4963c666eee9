/**
 * CreateAcls (30), versions 0-3 (CreateAclsRequest.json): stores ACLs in the cluster metadata, each
 * creation answered on its own (INVALID_REQUEST with the reason for a malformed one). Needs ALTER on
 * the cluster. Version 0 has no pattern type: its entries are LITERAL.
 */
import { aclBindingProblem, type AclBinding } from '../../metadata/acls.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { aclRequestRefusal } from '../acl-requests.ts';
import { Op, requester } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';
import type { Handler } from '../handler.ts';

export const createAcls: Handler<30> = async (ctx, request, info) => {
  const refusal = aclRequestRefusal(ctx, info, Op.ALTER);
  if (refusal) return { throttleTimeMs: 0, results: request.creations.map(() => refusal) };
  const bindings: AclBinding[] = request.creations.map((c) => ({
    resourceType: c.resourceType,
    resourceName: c.resourceName,
    patternType: c.resourcePatternType,
    principal: c.principal,
    host: c.host,
    operation: c.operation,
    permission: c.permissionType,
  }));
  const problems = bindings.map(aclBindingProblem);
  const valid = bindings.filter((_, i) => problems[i] === null);
  let stored: { errorCode: number; errorMessage: string | null } = { errorCode: 0, errorMessage: null };
  if (valid.length > 0) {
    const result = await ctx.metadata.submit({ type: 'create-acls', bindings: valid });
    stored = { errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null };
    if (result.error === null) ctx.log.info({ principal: requester(info.connection).principal, count: valid.length }, 'ACLs created');
  }
  return {
    throttleTimeMs: 0,
    results: problems.map((problem) => (problem === null ? stored : { errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Invalid ACL: ${problem}.` })),
  };
};
