/**
 * ACL administration (KIP-140): CreateAcls, DescribeAcls and DeleteAcls, sent to any broker (it hands
 * changes to the controller). Entries and filters carry Kafka's numeric codes; naming them is the
 * caller's business. Version 0 of these APIs has no pattern type: only LITERAL entries travel there.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore } from './client-core.ts';
import { errorFor, throwIfError, type KafkaResponseError } from './kafka-error.ts';

export interface AclEntry {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

/** Null strings and the ANY codes match anything; pattern type MATCH selects entries that apply to a name. */
export interface AclEntryFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permission: number;
}

export interface DeletedAcls {
  error: KafkaResponseError | null;
  deleted: AclEntry[];
}

const wireFilter = (f: AclEntryFilter) => ({
  resourceTypeFilter: f.resourceType,
  resourceNameFilter: f.resourceName,
  patternTypeFilter: f.patternType,
  principalFilter: f.principal,
  hostFilter: f.host,
  operation: f.operation,
  permissionType: f.permission,
});

/** Stores entries; one error (or null) per entry, in order. */
export async function createAcls(core: ClientCore, entries: readonly AclEntry[]): Promise<(KafkaResponseError | null)[]> {
  const { body } = await core.retry(() =>
    core.request('any', API_KEYS.CreateAcls, () => ({
      creations: entries.map((e) => ({ resourceType: e.resourceType, resourceName: e.resourceName, resourcePatternType: e.patternType, principal: e.principal, host: e.host, operation: e.operation, permissionType: e.permission })),
    })),
  );
  return entries.map((e, i) => {
    const r = body.results[i];
    return r === undefined ? errorFor(-1, `create ACL on ${e.resourceName}: the broker's answer did not mention it`) : errorFor(r.errorCode, `create ACL on ${e.resourceName}`, r.errorMessage);
  });
}

/** The stored entries a filter selects. */
export async function describeAcls(core: ClientCore, filter: AclEntryFilter): Promise<AclEntry[]> {
  return core.retry(async () => {
    const { body } = await core.request('any', API_KEYS.DescribeAcls, () => wireFilter(filter));
    throwIfError(body.errorCode, 'describe ACLs', body.errorMessage);
    return body.resources.flatMap((r) =>
      r.acls.map((a) => ({ resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType, principal: a.principal, host: a.host, operation: a.operation, permission: a.permissionType })),
    );
  });
}

/** Removes the entries each filter selects; per filter, the error or the entries removed. */
export async function deleteAcls(core: ClientCore, filters: readonly AclEntryFilter[]): Promise<DeletedAcls[]> {
  const { body } = await core.retry(() => core.request('any', API_KEYS.DeleteAcls, () => ({ filters: filters.map(wireFilter) })));
  return filters.map((_, i) => {
    const r = body.filterResults[i];
    if (r === undefined) return { error: errorFor(-1, "delete ACLs: the broker's answer did not mention a filter"), deleted: [] };
    return {
      error: errorFor(r.errorCode, 'delete ACLs', r.errorMessage),
      deleted: r.matchingAcls.map((a) => ({ resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permission: a.permissionType })),
    };
  });
}
