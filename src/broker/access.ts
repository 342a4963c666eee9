/**
 * The handlers' one door to authorization: who sent a request (the principal its connection
 * authenticated as, `User:ANONYMOUS` without one) and whether the authorizer lets them. Without
 * `security.authorization.enabled` there is no authorizer and everything is allowed, as on a Kafka
 * broker without an authorizer. With multi-tenancy, a tenant's connection is also held to its namespace
 * (tenant-access.ts) before the ACLs are asked, with or without an authorizer.
 */
import { AclOperation, ResourceType, CLUSTER_RESOURCE, operationName, resourceTypeName } from '../metadata/acls.ts';
import { ANONYMOUS, PRINCIPAL_STATE } from '../security/principal.ts';
import type { Requester } from '../security/authorizer.ts';
import type { ConnectionInfo } from '../net/connection.ts';
import type { BrokerContext } from './context.ts';
import type { RequestInfo } from './handler.ts';
import { logTenantRefusal, tenantMayTouch } from './tenant-access.ts';

export { AclOperation as Op, ResourceType as Resource } from '../metadata/acls.ts';
const Op = AclOperation;

export function requester(connection: ConnectionInfo): Requester {
  const principal = connection.state.get(PRINCIPAL_STATE);
  return { principal: typeof principal === 'string' ? principal : ANONYMOUS, host: connection.remoteHost };
}

/** Whether the request's sender may do `operation` on the resource; a refusal is logged and counted. */
export function allowed(ctx: BrokerContext, info: RequestInfo, operation: number, resourceType: number, resourceName: string): boolean {
  if (!tenantMayTouch(ctx, info.connection, operation, resourceType, resourceName)) {
    logTenantRefusal(ctx, info.connection, operationName(operation), `${resourceTypeName(resourceType)}:${resourceName}`);
    ctx.metrics.authorizationDenied(operationName(operation), resourceTypeName(resourceType));
    return false;
  }
  if (ctx.authorizer === null || ctx.authorizer.authorize(requester(info.connection), operation, resourceType, resourceName)) return true;
  ctx.metrics.authorizationDenied(operationName(operation), resourceTypeName(resourceType));
  return false;
}

/** As allowed, without a log line: for what a listing shows (topics in Metadata, groups in ListGroups). */
export function visible(ctx: BrokerContext, info: RequestInfo, operation: number, resourceType: number, resourceName: string): boolean {
  if (!tenantMayTouch(ctx, info.connection, operation, resourceType, resourceName)) return false;
  return ctx.authorizer === null || ctx.authorizer.allows(requester(info.connection), operation, resourceType, resourceName);
}

/** Whether the sender may do `operation` on the cluster resource. */
export function clusterAllowed(ctx: BrokerContext, info: RequestInfo, operation: number): boolean {
  return allowed(ctx, info, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE);
}

/** Whether the sender may do `operation` on any resource of the type (idempotent producers: WRITE on some topic). */
export function allowedOnAny(ctx: BrokerContext, info: RequestInfo, operation: number, resourceType: number): boolean {
  return ctx.authorizer === null || ctx.authorizer.allowsAny(requester(info.connection), operation, resourceType);
}

/** Creating a topic needs CREATE on the cluster or on the topic (Kafka's rule for CreateTopics and auto-creation). */
export function mayCreateTopic(ctx: BrokerContext, info: RequestInfo, topic: string): boolean {
  // A tenant may create topics (CREATE on the cluster passes its namespace rule), but only in its namespace.
  if (!tenantMayTouch(ctx, info.connection, Op.CREATE, ResourceType.TOPIC, topic)) return allowed(ctx, info, Op.CREATE, ResourceType.TOPIC, topic);
  return visible(ctx, info, Op.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE) || allowed(ctx, info, Op.CREATE, ResourceType.TOPIC, topic);
}

/** Kafka's "not asked for" value of the authorized-operations fields. */
export const OPERATIONS_NOT_ASKED = -2147483648;

/** The operations Kafka reports in authorized-operations fields, per resource type. */
const REPORTED_OPERATIONS: Readonly<Record<number, readonly number[]>> = {
  [ResourceType.TOPIC]: [Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS],
  [ResourceType.GROUP]: [Op.READ, Op.DELETE, Op.DESCRIBE],
  [ResourceType.CLUSTER]: [Op.CREATE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE, Op.ALTER, Op.DESCRIBE],
};

/**
 * The bit set (bit n for operation code n) of what the sender may do on a resource, for Metadata,
 * DescribeGroups and DescribeCluster when the client asks (KIP-430); OPERATIONS_NOT_ASKED otherwise.
 */
export function authorizedOperations(ctx: BrokerContext, info: RequestInfo, asked: boolean, resourceType: number, resourceName: string): number {
  if (!asked) return OPERATIONS_NOT_ASKED;
  let bits = 0;
  for (const op of REPORTED_OPERATIONS[resourceType] ?? []) if (visible(ctx, info, op, resourceType, resourceName)) bits |= 1 << op;
  return bits;
}
