/**
 * `streambus acl create|list|delete` (also `add` and `remove`, as Kafka's tool names them): access control lists (security.authorization), with the options
 * of Kafka's kafka-acls tool: one resource (--topic, --group, --cluster, --transactional-id) with its
 * --resource-pattern-type, principals to allow or deny, hosts, operations. Sent as Kafka's ACL
 * requests, so the caller needs ALTER on the cluster (DESCRIBE to list) or to be a super user.
 */
import type { Argv } from 'yargs';
import type { AclEntry, AclEntryFilter } from '../../client/index.ts';
import {
  AclOperation,
  AclPermission,
  codeOf,
  CLUSTER_RESOURCE,
  operationName,
  PatternType,
  patternTypeName,
  permissionName,
  ResourceType,
  resourceTypeName,
  WILDCARD,
} from '../../metadata/acls.ts';
import { CommandError, out, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';
import type { CliServices } from '../services.ts';

interface ResourceArgs {
  topic?: string | undefined;
  group?: string | undefined;
  cluster?: boolean | undefined;
  transactionalId?: string | undefined;
  resourcePatternType?: string | undefined;
}

const resourceOptions = <T>(y: Argv<T>) =>
  y
    .option('topic', { type: 'string', describe: 'A topic (or, with --resource-pattern-type prefixed, a topic name prefix; * for every topic)' })
    .option('group', { type: 'string', describe: 'A consumer group (or prefix; * for every group)' })
    .option('cluster', { type: 'boolean', describe: 'The cluster itself (topic creation, ACL and broker administration)' })
    .option('transactional-id', { type: 'string', describe: 'A transactional id (or prefix; * for every one)' })
    .option('resource-pattern-type', { type: 'string', describe: 'literal or prefixed; to list or delete also any or match' })
    .conflicts('topic', ['group', 'cluster', 'transactional-id'])
    .conflicts('group', ['cluster', 'transactional-id'])
    .conflicts('cluster', 'transactional-id');

/** The resource named by the options, or null when none is. */
function resource(argv: ResourceArgs): { type: number; name: string } | null {
  if (argv.topic !== undefined) return { type: ResourceType.TOPIC, name: argv.topic };
  if (argv.group !== undefined) return { type: ResourceType.GROUP, name: argv.group };
  if (argv.cluster === true) return { type: ResourceType.CLUSTER, name: CLUSTER_RESOURCE };
  if (argv.transactionalId !== undefined) return { type: ResourceType.TRANSACTIONAL_ID, name: argv.transactionalId };
  return null;
}

function named(table: Record<string, number>, what: string, name: string, allowed: readonly number[]): number {
  const code = codeOf(table, name);
  if (code === undefined || !allowed.includes(code)) {
    const names = allowed.map((c) => Object.entries(table).find(([, v]) => v === c)![0].toLowerCase().replace(/_/g, '-'));
    throw new UsageError(`unknown ${what} '${name}' (one of: ${names.join(', ')})`);
  }
  return code;
}

const STORABLE_OPERATIONS = Object.values(AclOperation).filter((c) => c !== AclOperation.ANY);
const operations = (names: readonly string[] | undefined) => (names ?? []).map((n) => named(AclOperation, 'operation', n, STORABLE_OPERATIONS));

function printAcls(entries: readonly AclEntry[], json: boolean): Promise<void> {
  if (json) {
    return printJson(
      entries.map((e) => ({
        resourceType: resourceTypeName(e.resourceType),
        resourceName: e.resourceName,
        patternType: patternTypeName(e.patternType),
        principal: e.principal,
        host: e.host,
        operation: operationName(e.operation),
        permission: permissionName(e.permission),
      })),
    );
  }
  const rows = entries.map((e) => [`${resourceTypeName(e.resourceType)}:${e.resourceName}`, patternTypeName(e.patternType), e.principal, e.host, operationName(e.operation), permissionName(e.permission)]);
  return out(formatTable(['RESOURCE', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'], rows));
}

/** The filters of list and delete: the resource (any when none), principal, operations (any when none), permission. */
function filters(argv: ResourceArgs & { principal?: string | undefined; operation?: string[] | undefined; permission?: string | undefined }): AclEntryFilter[] {
  const r = resource(argv);
  const patternType = argv.resourcePatternType === undefined ? PatternType.ANY : named(PatternType, 'resource pattern type', argv.resourcePatternType, Object.values(PatternType));
  const permission = argv.permission === undefined ? AclPermission.ANY : named(AclPermission, 'permission', argv.permission, [AclPermission.ALLOW, AclPermission.DENY]);
  const ops = operations(argv.operation);
  return (ops.length === 0 ? [AclOperation.ANY] : ops).map((operation) => ({
    resourceType: r?.type ?? ResourceType.ANY,
    resourceName: r?.name ?? null,
    patternType,
    principal: argv.principal ?? null,
    host: null,
    operation,
    permission,
  }));
}

export function aclCommand(y: Argv, _services: CliServices): Argv {
  return y.command('acl', 'Create, list and delete access control lists (security.authorization)', (a) =>
    withClientOptions(a)
      .command(
        ['create', 'add'],
        'Allow or deny principals operations on a resource (alias: add)',
        (c) =>
          resourceOptions(c)
            .option('allow-principal', { type: 'string', array: true, describe: 'Principal to allow, User:<name> (User:* for everyone); repeatable' })
            .option('deny-principal', { type: 'string', array: true, describe: 'Principal to deny; repeatable' })
            .option('allow-host', { type: 'string', array: true, describe: 'IP address the allowed principals may connect from (default: any)' })
            .option('deny-host', { type: 'string', array: true, describe: 'IP address the denied principals are denied from (default: any)' })
            .option('operation', { type: 'string', array: true, demandOption: true, describe: 'read, write, create, delete, alter, describe, describe-configs, alter-configs, idempotent-write, cluster-action, all; repeatable' })
            .example('$0 acl create --allow-principal User:alice --operation read --operation describe --topic orders', '')
            .example('$0 acl create --allow-principal User:alice --operation read --group orders-app', '')
            .example('$0 acl create --allow-principal User:ingest --operation write --topic logs. --resource-pattern-type prefixed', ''),
        (argv) =>
          runWithClient(argv, async (client) => {
            const r = resource(argv);
            if (r === null) throw new UsageError('name the resource: --topic, --group, --cluster or --transactional-id');
            const allow = argv['allow-principal'] ?? [];
            const deny = argv['deny-principal'] ?? [];
            if (allow.length + deny.length === 0) throw new UsageError('name who: --allow-principal or --deny-principal');
            const patternType = named(PatternType, 'resource pattern type', argv.resourcePatternType ?? 'literal', [PatternType.LITERAL, PatternType.PREFIXED]);
            const ops = operations(argv.operation);
            const entries: AclEntry[] = [];
            for (const [principals, hosts, permission] of [
              [allow, argv['allow-host'], AclPermission.ALLOW],
              [deny, argv['deny-host'], AclPermission.DENY],
            ] as const) {
              for (const principal of principals) for (const host of hosts ?? [WILDCARD]) for (const operation of ops) entries.push({ resourceType: r.type, resourceName: r.name, patternType, principal, host, operation, permission });
            }
            const errors = await client.createAcls(entries);
            const failed = errors.find((e) => e !== null);
            if (failed) throw failed.kafkaName === 'SECURITY_DISABLED' ? new CommandError('the broker does not check ACLs (security.authorization.enabled is false)') : failed;
            if (argv.json) await printAcls(entries, true);
            else await out(`created ${entries.length} ACL(s)\n`);
          }),
      )
      .command(
        'list',
        'List ACLs (all, or those of a resource or principal)',
        (c) =>
          resourceOptions(c)
            .option('principal', { type: 'string', describe: 'Only the ACLs of this principal' })
            .example('$0 acl list --topic orders --resource-pattern-type match', 'every ACL that applies to topic orders'),
        (argv) =>
          runWithClient(argv, async (client) => {
            const [filter] = filters(argv);
            await printAcls(await client.describeAcls(filter!), argv.json);
          }),
      )
      .command(
        ['delete', 'remove'],
        '(alias: remove) Delete the ACLs that match (a resource, principal, operations, permission; --all for every ACL)',
        (c) =>
          resourceOptions(c)
            .option('principal', { type: 'string', describe: 'Only the ACLs of this principal' })
            .option('operation', { type: 'string', array: true, describe: 'Only these operations; repeatable' })
            .option('permission', { type: 'string', describe: 'allow or deny' })
            .option('all', { type: 'boolean', default: false, describe: 'Delete every ACL of the cluster' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            if (resource(argv) === null && argv.principal === undefined && !argv.all) throw new UsageError('name what to delete (a resource or --principal), or --all for every ACL');
            const results = await client.deleteAcls(filters(argv));
            const failed = results.find((r) => r.error !== null);
            if (failed) throw failed.error;
            const deleted = results.flatMap((r) => r.deleted);
            if (argv.json) await printAcls(deleted, true);
            else await out(`deleted ${deleted.length} ACL(s)\n`);
          }),
      )
      .demandCommand(1, 'name a subcommand: create, list or delete'),
  );
}
