/**
 * Decides whether a principal may perform an operation on a resource, with the access control entries
 * of the cluster metadata (src/metadata/acls.ts) and Kafka's rules:
 *  - super users may do everything;
 *  - a matching DENY entry (the operation itself or ALL) refuses, whatever allows it;
 *  - a matching ALLOW entry allows the operation itself, ALL allows everything, and as in Kafka, READ,
 *    WRITE, DELETE or ALTER imply DESCRIBE, and ALTER_CONFIGS implies DESCRIBE_CONFIGS;
 *  - without any entry for the resource at all, `allowEveryoneIfNoAclFound` decides (off: deny).
 * An entry matches when its pattern covers the resource name (literal, literal `*`, or prefix), its
 * principal is the client's or `User:*`, and its host is the client's address or `*`.
 * Every refusal is logged; the log given should be rate-limited (a client retrying in a loop must not
 * flood it).
 */
import {
  AclOperation,
  AclPermission,
  PatternType,
  patternCovers,
  principalProblem,
  operationName,
  resourceTypeName,
  WILDCARD,
  type AclBinding,
} from '../metadata/acls.ts';

export interface AuthorizerOptions {
  /** Principals allowed everything (`User:admin`). */
  readonly superUsers: readonly string[];
  /** Allow an operation on a resource that no entry names (Kafka's allow.everyone.if.no.acl.found). */
  readonly allowEveryoneIfNoAclFound: boolean;
}

/** Who asks, from where. */
export interface Requester {
  readonly principal: string;
  /** The client's IP address. */
  readonly host: string;
}

const WILDCARD_USER = 'User:*';

/** Where refusals are written (a pino logger fits). */
export interface RefusalLog {
  warn(fields: object, message: string): void;
}

/** Operations an ALLOW for the key also grants (Kafka's implied operations). */
const IMPLIED_BY: ReadonlyMap<number, readonly number[]> = new Map([
  [AclOperation.DESCRIBE, [AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]],
  [AclOperation.DESCRIBE_CONFIGS, [AclOperation.ALTER_CONFIGS]],
]);

export class Authorizer {
  private readonly superUsers: ReadonlySet<string>;
  /** Entries by resource type, rebuilt when the metadata's list is replaced. */
  private indexed: readonly AclBinding[] | null = null;
  private byType = new Map<number, TypeIndex>();

  constructor(
    private readonly acls: () => readonly AclBinding[],
    private readonly options: AuthorizerOptions,
    private readonly log: RefusalLog,
  ) {
    this.superUsers = new Set(options.superUsers);
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  /** Whether `who` may do `operation` on the resource; a refusal is logged. */
  authorize(who: Requester, operation: number, resourceType: number, resourceName: string): boolean {
    const allowed = this.decide(who, operation, resourceType, resourceName);
    if (!allowed) {
      this.log.warn(
        { principal: who.principal, host: who.host, operation: operationName(operation), resource: `${resourceTypeName(resourceType)}:${resourceName}` },
        'request refused: no ACL allows it',
      );
    }
    return allowed;
  }

  /** As authorize, without a log line: for filtering listings (Metadata of all topics, ListGroups). */
  allows(who: Requester, operation: number, resourceType: number, resourceName: string): boolean {
    return this.decide(who, operation, resourceType, resourceName);
  }

  /**
   * Whether `who` may do `operation` on some resource of the type (Kafka's authorizeByResourceType, which
   * InitProducerId uses: an idempotent producer needs WRITE on any topic, KIP-679): an ALLOW entry of
   * theirs that no DENY entry of theirs covers. Not logged: the caller logs its own refusal.
   */
  allowsAny(who: Requester, operation: number, resourceType: number): boolean {
    if (this.superUsers.has(who.principal)) return true;
    const entries = this.index(resourceType)?.all ?? [];
    if (entries.length === 0) return this.options.allowEveryoneIfNoAclFound;
    const mine = entries.filter((b) => (b.principal === who.principal || b.principal === WILDCARD_USER) && (b.host === who.host || b.host === WILDCARD));
    const denies = mine.filter((b) => b.permission === AclPermission.DENY && (b.operation === operation || b.operation === AclOperation.ALL));
    return mine.some(
      (b) =>
        b.permission === AclPermission.ALLOW &&
        (b.operation === operation || b.operation === AclOperation.ALL) &&
        !denies.some((d) => patternCovers(d, b.resourceName) && (d.patternType === PatternType.PREFIXED || d.resourceName === WILDCARD || b.patternType === PatternType.LITERAL)),
    );
  }

  private decide(who: Requester, operation: number, resourceType: number, resourceName: string): boolean {
    if (this.superUsers.has(who.principal)) return true;
    const entries = this.covering(resourceType, resourceName);
    if (entries.length === 0) return this.options.allowEveryoneIfNoAclFound;
    const mine = entries.filter((b) => (b.principal === who.principal || b.principal === WILDCARD_USER) && (b.host === who.host || b.host === WILDCARD));
    if (mine.some((b) => b.permission === AclPermission.DENY && (b.operation === operation || b.operation === AclOperation.ALL))) return false;
    const granting = [operation, AclOperation.ALL, ...(IMPLIED_BY.get(operation) ?? [])];
    return mine.some((b) => b.permission === AclPermission.ALLOW && granting.includes(b.operation));
  }

  /**
   * The entries whose pattern covers `name`: its literal entries (a map lookup), the literal `*` ones,
   * and the prefixed ones it starts with; so a listing of many topics does not scan every entry for each.
   */
  private covering(resourceType: number, name: string): AclBinding[] {
    const index = this.index(resourceType);
    if (index === undefined) return [];
    const out = [...(index.literal.get(name) ?? []), ...index.wildcard];
    for (const b of index.prefixed) if (name.startsWith(b.resourceName)) out.push(b);
    return out;
  }

  private index(resourceType: number): TypeIndex | undefined {
    const current = this.acls();
    if (current !== this.indexed) {
      this.byType = new Map();
      for (const b of current) {
        const index = this.byType.get(b.resourceType) ?? this.byType.set(b.resourceType, { all: [], literal: new Map(), wildcard: [], prefixed: [] }).get(b.resourceType)!;
        index.all.push(b);
        if (b.patternType === PatternType.PREFIXED) index.prefixed.push(b);
        else if (b.resourceName === WILDCARD) index.wildcard.push(b);
        else (index.literal.get(b.resourceName) ?? index.literal.set(b.resourceName, []).get(b.resourceName)!).push(b);
      }
      this.indexed = current;
    }
    return this.byType.get(resourceType);
  }
}

/** One resource type's entries, by how their patterns match. */
interface TypeIndex {
  readonly all: AclBinding[];
  readonly literal: Map<string, AclBinding[]>;
  readonly wildcard: AclBinding[];
  readonly prefixed: AclBinding[];
}

/** The principals of security.authorization.superUsers (`;`-separated), or why one is malformed. */
export function parseSuperUsers(text: string): { principals: string[] } | { problem: string } {
  const principals = text.split(';').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of principals) {
    const problem = principalProblem(p);
    if (problem) return { problem };
  }
  return { principals };
}
