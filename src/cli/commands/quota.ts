/**
 * `streambus quota describe|alter`: Kafka's client quotas (producer_byte_rate, consumer_byte_rate,
 * request_percentage) per user, client id, or both, through DescribeClientQuotas and AlterClientQuotas.
 * `--user-default` / `--client-default` name the default entities (Kafka's `<default>`). Each broker
 * holds a client to the whole quota on its own (docs/quotas.md). With authorization on, the caller needs
 * ALTER_CONFIGS (DESCRIBE_CONFIGS to read) on the cluster.
 */
import type { Argv } from 'yargs';
import type { QuotaEntityPart, QuotaMatch } from '../../client/quota-admin.ts';
import { out, parsePairs, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';

interface EntityArgs {
  user?: string;
  'user-default'?: boolean;
  client?: string;
  'client-default'?: boolean;
}

function entityOptions<T>(y: Argv<T>): Argv<T & EntityArgs> {
  return y
    .option('user', { type: 'string', describe: 'A user (the principal name, without User:)' })
    .option('user-default', { type: 'boolean', describe: 'The default user entity' })
    .option('client', { type: 'string', describe: "A client id (the quota entity; --client-id is this command's own)" })
    .option('client-default', { type: 'boolean', describe: 'The default client-id entity' }) as unknown as Argv<T & EntityArgs>;
}

function part(type: string, name: string | undefined, isDefault: boolean | undefined): QuotaEntityPart | null {
  if (name !== undefined && isDefault === true) throw new UsageError(`give --${type === 'user' ? 'user' : 'client'} or --${type === 'user' ? 'user' : 'client'}-default, not both`);
  if (isDefault === true) return { type, name: null };
  return name === undefined ? null : { type, name };
}

function entityOf(argv: EntityArgs): QuotaEntityPart[] {
  return [part('user', argv.user, argv['user-default']), part('client-id', argv.client, argv['client-default'])].filter((p): p is QuotaEntityPart => p !== null);
}

const show = (entity: readonly QuotaEntityPart[]) => entity.map((p) => `${p.type}=${p.name ?? '<default>'}`).join(', ');

export function quotaCommand(y: Argv): Argv {
  return y.command('quota', "Describe and change client quotas (Kafka's producer_byte_rate, consumer_byte_rate, request_percentage)", (q) =>
    withClientOptions(q)
      .command(
        'describe',
        'List quotas, of every entity or of those matching --user/--client (--strict: only entities of exactly those types)',
        (c) => entityOptions(c).option('strict', { type: 'boolean', default: false, describe: 'Exclude entities that also name other types' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const filter: QuotaMatch[] = entityOf(argv).map((p) => (p.name === null ? { type: p.type, default: true as const } : { type: p.type, name: p.name }));
            const entries = await client.describeClientQuotas(filter, argv.strict);
            if (argv.json) await printJson(entries);
            else await out(formatTable(['ENTITY', 'QUOTA', 'VALUE'], entries.flatMap((e) => Object.entries(e.values).map(([k, v]) => [show(e.entity), k, String(v)]))));
          }),
      )
      .command(
        'alter',
        'Set (--add key=value) and remove (--delete key) quotas of one entity; effective on every broker within a second',
        (c) =>
          entityOptions(c)
            .option('add', { type: 'string', array: true, describe: 'key=value to set (bytes per second, or percent of a request thread)' })
            .option('delete', { type: 'string', array: true, describe: 'key to remove' })
            .option('validate-only', { type: 'boolean', default: false, describe: 'Check without changing' })
            .example('$0 quota alter --client etl --add producer_byte_rate=10485760', '10 MiB/s of produce for client id etl, per broker')
            .example('$0 quota alter --user-default --add consumer_byte_rate=52428800', 'each user reads at most 50 MiB/s from each broker'),
        (argv) =>
          runWithClient(argv, async (client) => {
            const entity = entityOf(argv);
            if (entity.length === 0) throw new UsageError('name the entity: --user, --user-default, --client and/or --client-default');
            const changes: Record<string, number | null> = {};
            for (const [key, value] of parsePairs('--add', argv.add)) {
              const n = Number(value);
              if (!(Number.isFinite(n) && n > 0)) throw new UsageError(`--add ${key}: the value must be a positive number, got ${value}`);
              changes[key] = n;
            }
            for (const key of argv.delete ?? []) changes[key] = null;
            if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --add key=value and/or --delete key');
            const error = await client.alterClientQuotas(entity, changes, argv['validate-only']);
            if (error) throw error;
            if (argv.json) await printJson({ entity, changes, validateOnly: argv['validate-only'] });
            else await out(`${show(entity)}: ${Object.entries(changes).map(([k, v]) => (v === null ? `${k} removed` : `${k}=${v}`)).join(', ')}${argv['validate-only'] ? ' (validated, not changed)' : ''}\n`);
          }),
      )
      .demandCommand(1, 'Name a quota command: describe or alter.'),
  );
}
