/**
 * What the three ACL APIs share: their refusal when authorization is off (SECURITY_DISABLED, as a Kafka
 * broker without an authorizer answers) or the sender may not manage ACLs, and the conversion between
 * the wire's fields and the metadata's entries.
 */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { AclBinding, AclFilter } from '../metadata/acls.ts';
import type { DescribeAclsRequest } from '../protocol/kafka/generated/index.ts';
import { clusterAllowed, Op } from './access.ts';
import type { BrokerContext } from './context.ts';
import type { RequestInfo } from './handler.ts';

export interface AclRefusal {
  readonly errorCode: number;
  readonly errorMessage: string;
}

/** Why the request may not read (DESCRIBE) or change (ALTER) ACLs, or null. */
export function aclRequestRefusal(ctx: BrokerContext, info: RequestInfo, operation: typeof Op.DESCRIBE | typeof Op.ALTER): AclRefusal | null {
  if (ctx.authorizer === null) return { errorCode: KafkaErrorCode.SECURITY_DISABLED, errorMessage: 'No authorizer is configured on the broker (security.authorization.enabled is false).' };
  if (!clusterAllowed(ctx, info, operation)) {
    return { errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: `${operation === Op.ALTER ? 'ALTER' : 'DESCRIBE'} on the cluster is needed to ${operation === Op.ALTER ? 'change' : 'list'} ACLs.` };
  }
  return null;
}

/** A DescribeAcls or DeleteAcls filter in the metadata's terms (both requests name the fields alike). */
export function aclFilter(f: Omit<DescribeAclsRequest, 'unknownTaggedFields'>): AclFilter {
  return {
    resourceType: f.resourceTypeFilter,
    resourceName: f.resourceNameFilter,
    patternType: f.patternTypeFilter,
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: f.operation,
    permission: f.permissionType,
  };
}

/** An entry in the wire's field names (DeleteAcls matching_acls, DescribeAcls' per-entry fields). */
export function wireAcl(b: AclBinding): { principal: string; host: string; operation: number; permissionType: number } {
  return { principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission };
}
