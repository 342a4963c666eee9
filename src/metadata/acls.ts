/**
 * Access control entries as Kafka defines them (KIP-140 for the APIs, KIP-290 for prefixed resource
 * patterns): who (principal, host) may or may not do what (operation) on which resources (type, name,
 * pattern). They live in the cluster metadata; this file holds their shape, Kafka's numeric codes, the
 * checks a new entry must pass and how a filter selects entries. Pure: the authorizer
 * (src/security/authorizer.ts) decides requests with them.
 */

/** Kafka's resource types (ResourceType). ANY only appears in filters. */
export const ResourceType = { ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
/** Kafka's pattern types (PatternType). ANY and MATCH only appear in filters. */
export const PatternType = { ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
/** Kafka's operations (AclOperation). ANY only appears in filters; ALL stands for every operation. */
export const AclOperation = {
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;
/** Kafka's permission types (AclPermissionType). ANY only appears in filters. */
export const AclPermission = { ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The one name a CLUSTER resource has. */
export const CLUSTER_RESOURCE = 'kafka-cluster';
/** Any resource of the type (with a literal pattern), any principal of a type (`User:*`), any host. */
export const WILDCARD = '*';

export interface AclBinding {
  readonly resourceType: number;
  readonly resourceName: string;
  /** LITERAL or PREFIXED. */
  readonly patternType: number;
  /** `User:<name>`, or `User:*` for everyone. */
  readonly principal: string;
  /** A client IP address, or `*`. */
  readonly host: string;
  readonly operation: number;
  readonly permission: number;
}

/** A DescribeAcls or DeleteAcls filter: null strings match anything, as do the ANY codes. */
export interface AclFilter {
  readonly resourceType: number;
  readonly resourceName: string | null;
  readonly patternType: number;
  readonly principal: string | null;
  readonly host: string | null;
  readonly operation: number;
  readonly permission: number;
}

const NAMES = (table: Record<string, number>) => new Map(Object.entries(table).map(([name, code]) => [code, name]));
const RESOURCE_NAMES = NAMES(ResourceType);
const PATTERN_NAMES = NAMES(PatternType);
const OPERATION_NAMES = NAMES(AclOperation);
const PERMISSION_NAMES = NAMES(AclPermission);

export const resourceTypeName = (code: number): string => RESOURCE_NAMES.get(code) ?? `UNKNOWN(${code})`;
export const patternTypeName = (code: number): string => PATTERN_NAMES.get(code) ?? `UNKNOWN(${code})`;
export const operationName = (code: number): string => OPERATION_NAMES.get(code) ?? `UNKNOWN(${code})`;
export const permissionName = (code: number): string => PERMISSION_NAMES.get(code) ?? `UNKNOWN(${code})`;

/** The code of a name however Kafka's tools spell it (`DescribeConfigs`, `describe-configs`, `DESCRIBE_CONFIGS`), or undefined. */
export function codeOf(table: Record<string, number>, name: string): number | undefined {
  const squash = (text: string) => text.toUpperCase().replace(/[-_\s]/g, '');
  const wanted = squash(name);
  for (const [key, code] of Object.entries(table)) if (squash(key) === wanted) return code;
  return undefined;
}

/** A principal as Kafka writes one: `<type>:<name>` with a non-empty type and name. */
export function principalProblem(principal: string): string | null {
  const colon = principal.indexOf(':');
  if (colon <= 0 || colon === principal.length - 1) return `principal '${principal}' is not of the form <type>:<name> (for example User:alice)`;
  return null;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `*` or an IP address (Kafka matches hosts by address, never by name). */
function hostProblem(host: string): string | null {
  if (host === WILDCARD || IPV4.test(host) || (host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host))) return null;
  return `host '${host}' is neither * nor an IP address`;
}

/** Why `b` cannot be stored (Kafka answers INVALID_REQUEST with it), or null. */
export function aclBindingProblem(b: AclBinding): string | null {
  if (!RESOURCE_NAMES.has(b.resourceType) || b.resourceType === ResourceType.ANY) return `resource type ${resourceTypeName(b.resourceType)} cannot be stored in an ACL`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `pattern type ${patternTypeName(b.patternType)} cannot be stored in an ACL (LITERAL or PREFIXED)`;
  if (!OPERATION_NAMES.has(b.operation) || b.operation === AclOperation.ANY) return `operation ${operationName(b.operation)} cannot be stored in an ACL`;
  if (b.permission !== AclPermission.ALLOW && b.permission !== AclPermission.DENY) return `permission type ${permissionName(b.permission)} cannot be stored in an ACL (ALLOW or DENY)`;
  if (b.resourceName === '') return 'the resource name is empty';
  if (b.patternType === PatternType.PREFIXED && b.resourceName === WILDCARD) return "a PREFIXED pattern cannot be '*' (use LITERAL '*' for every resource)";
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE) return `the cluster resource is named '${CLUSTER_RESOURCE}', not '${b.resourceName}'`;
  return principalProblem(b.principal) ?? hostProblem(b.host);
}

/** Why `f` is not a usable filter (Kafka answers INVALID_REQUEST), or null. */
export function aclFilterProblem(f: AclFilter): string | null {
  if (!RESOURCE_NAMES.has(f.resourceType)) return `unknown resource type ${f.resourceType}`;
  if (!PATTERN_NAMES.has(f.patternType)) return `unknown pattern type ${f.patternType}`;
  if (!OPERATION_NAMES.has(f.operation)) return `unknown operation ${f.operation}`;
  if (!PERMISSION_NAMES.has(f.permission)) return `unknown permission type ${f.permission}`;
  return null;
}

/** Whether a stored entry's resource pattern covers the resource `name` (of the entry's type). */
export function patternCovers(b: Pick<AclBinding, 'patternType' | 'resourceName'>, name: string): boolean {
  if (b.patternType === PatternType.PREFIXED) return name.startsWith(b.resourceName);
  return b.resourceName === name || b.resourceName === WILDCARD;
}

/** Whether filter `f` selects entry `b` (Kafka's AclBindingFilter.matches, MATCH included). */
export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType === PatternType.MATCH) {
    if (f.resourceName !== null && !patternCovers(b, f.resourceName)) return false;
  } else {
    if (f.patternType !== PatternType.ANY && f.patternType !== b.patternType) return false;
    if (f.resourceName !== null && f.resourceName !== b.resourceName) return false;
  }
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permission === AclPermission.ANY || f.permission === b.permission;
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permission === b.permission
  );
}

/** One line for logs and the CLI: `ALLOW User:alice from * READ on TOPIC:orders (LITERAL)`. */
export function describeBinding(b: AclBinding): string {
  return `${permissionName(b.permission)} ${b.principal} from ${b.host} ${operationName(b.operation)} on ${resourceTypeName(b.resourceType)}:${b.resourceName} (${patternTypeName(b.patternType)})`;
}
