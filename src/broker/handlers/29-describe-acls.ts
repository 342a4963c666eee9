/**
 * DescribeAcls (29), versions 0-3 (DescribeAclsRequest.json): the stored ACLs a filter selects, grouped
 * by resource pattern. Needs DESCRIBE on the cluster.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { aclFilterProblem, filterMatches, type AclBinding } from '../../metadata/acls.ts';
import { aclFilter, aclRequestRefusal, wireAcl } from '../acl-requests.ts';
import { Op } from '../access.ts';
import type { Handler } from '../handler.ts';

export const describeAcls: Handler<29> = (ctx, request, info) => {
  const refusal = aclRequestRefusal(ctx, info, Op.DESCRIBE);
  if (refusal) return { throttleTimeMs: 0, ...refusal, resources: [] };
  const filter = aclFilter(request);
  const problem = aclFilterProblem(filter);
  if (problem) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Invalid ACL filter: ${problem}.`, resources: [] };
  const byResource = new Map<string, AclBinding[]>();
  for (const b of ctx.metadata.state.acls()) {
    if (!filterMatches(filter, b)) continue;
    const key = JSON.stringify([b.resourceType, b.patternType, b.resourceName]);
    const list = byResource.get(key);
    if (list) list.push(b);
    else byResource.set(key, [b]);
  }
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    resources: [...byResource.values()].map((entries) => ({
      resourceType: entries[0]!.resourceType,
      resourceName: entries[0]!.resourceName,
      patternType: entries[0]!.patternType,
      acls: entries.map(wireAcl),
    })),
  };
};
