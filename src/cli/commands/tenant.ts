/**
 * `streambus tenant list|describe|quota`: the tenants of a cluster with multi-tenancy
 * (docs/multi-tenancy.md). A tenant owns the topics and groups named `<tenant>.<name>`; its quotas
 * (max_topics, max_connections, max_bandwidth_mbps) are stored as the `tenant` entity of the client
 * quotas (DescribeClientQuotas / AlterClientQuotas), and what is not set there comes from the
 * `tenant=<default>` entity, then the brokers' multiTenancy.defaultQuotas. Needs a super user when
 * authorization is on (DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster).
 */
import type { Argv } from 'yargs';
import type { QuotaEntry } from '../../client/quota-admin.ts';
import { TENANT_NAME, TENANT_NAME_RULE, TENANT_QUOTA_KEYS } from '../../metadata/client-quotas.ts';
import { out, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';

const tenantOf = (name: string): string | null => {
  const dot = name.indexOf('.');
  const tenant = dot > 0 && dot < name.length - 1 ? name.slice(0, dot) : '';
  return TENANT_NAME.test(tenant) ? tenant : null;
};

const showValues = (values: Record<string, number>) => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(', ');

function checkName(name: string): string {
  if (!TENANT_NAME.test(name)) throw new UsageError(`${JSON.stringify(name)} is not a tenant name (${TENANT_NAME_RULE})`);
  return name;
}

export function tenantCommand(y: Argv): Argv {
  return y.command('tenant', 'List and describe tenants and change their quotas (multi-tenancy)', (t) =>
    withClientOptions(t)
      .command(
        'list',
        'List tenants: those owning topics (<tenant>.<name>) and those with quotas of their own',
        (c) => c,
        (argv) =>
          runWithClient(argv, async (client) => {
            const [md, quotas] = await Promise.all([client.metadata(null), client.describeClientQuotas([{ type: 'tenant', any: true }], true)]);
            const rows = new Map<string, { topics: number; quotas: Record<string, number> }>();
            const row = (tenant: string) => rows.get(tenant) ?? rows.set(tenant, { topics: 0, quotas: {} }).get(tenant)!;
            for (const topic of md.topics) {
              const tenant = topic.isInternal ? null : tenantOf(topic.name);
              if (tenant !== null) row(tenant).topics++;
            }
            let defaults: Record<string, number> = {};
            for (const q of quotas) {
              const name = q.entity[0]!.name;
              if (name === null) defaults = q.values;
              else row(name).quotas = q.values;
            }
            const tenants = [...rows.entries()].sort(([a], [b]) => a.localeCompare(b));
            if (argv.json) {
              await printJson({ tenants: tenants.map(([name, r]) => ({ name, topics: r.topics, quotas: r.quotas })), defaultQuotas: defaults });
              return;
            }
            await out(formatTable(['TENANT', 'TOPICS', 'QUOTAS'], [...tenants.map(([name, r]) => [name, String(r.topics), showValues(r.quotas) || '(defaults)']), ...(Object.keys(defaults).length > 0 ? [['<default>', '', showValues(defaults)]] : [])]));
          }),
      )
      .command(
        'describe <name>',
        "Show a tenant's topics, groups and quotas",
        (c) => c.positional('name', { type: 'string', demandOption: true }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const tenant = checkName(argv.name);
            const [md, groups, own, fallback] = await Promise.all([
              client.metadata(null),
              client.listGroups(),
              client.describeClientQuotas([{ type: 'tenant', name: tenant }], true),
              client.describeClientQuotas([{ type: 'tenant', default: true }], true),
            ]);
            const topics = md.topics.filter((x) => tenantOf(x.name) === tenant).map((x) => ({ name: x.name, partitions: x.partitions.length })).sort((a, b) => a.name.localeCompare(b.name));
            const groupIds = groups.map((g) => g.groupId).filter((g) => tenantOf(g) === tenant).sort();
            const quotas = effective(own, fallback);
            if (argv.json) {
              await printJson({ tenant, topics, groups: groupIds, quotas });
              return;
            }
            const quotaLines = TENANT_QUOTA_KEYS.map((k) => `  ${k}: ${quotas[k] === undefined ? "the brokers' multiTenancy.defaultQuotas" : `${quotas[k]!.value} (${quotas[k]!.from})`}`);
            await out(
              [
                `tenant ${tenant}`,
                `topics (${topics.length}): ${topics.map((x) => `${x.name} [${x.partitions}]`).join(', ') || 'none'}`,
                `groups (${groupIds.length}): ${groupIds.join(', ') || 'none'}`,
                'quotas:',
                ...quotaLines,
                '',
              ].join('\n'),
            );
          }),
      )
      .command(
        'quota [name]',
        "Set or remove a tenant's quotas (or, with --default, every tenant's); effective on every broker within a second",
        (c) =>
          c
            .positional('name', { type: 'string', describe: 'The tenant' })
            .option('default', { type: 'boolean', default: false, describe: 'The default tenant entity: quotas of every tenant without its own' })
            .option('max-topics', { type: 'number', describe: 'Topics the tenant may own in the cluster' })
            .option('max-connections', { type: 'number', describe: 'Connections the tenant may hold open on each broker' })
            .option('max-bandwidth-mbps', { type: 'number', describe: 'Produce plus fetch MB/s (10^6 bytes) on each broker' })
            .option('delete', { type: 'string', array: true, choices: TENANT_QUOTA_KEYS as string[], describe: 'Quota to remove (back to the default)' })
            .option('validate-only', { type: 'boolean', default: false, describe: 'Check without changing' })
            .example('$0 tenant quota acme --max-topics 20 --max-bandwidth-mbps 5', 'tenant acme: 20 topics, 5 MB/s per broker')
            .example('$0 tenant quota --default --max-connections 200', 'every tenant without its own: 200 connections per broker'),
        (argv) =>
          runWithClient(argv, async (client) => {
            if ((argv.name === undefined) === !argv.default) throw new UsageError('name the tenant, or give --default (not both)');
            const name = argv.default ? null : checkName(argv.name!);
            const changes: Record<string, number | null> = {};
            const given: [string, number | undefined][] = [
              ['max_topics', argv['max-topics']],
              ['max_connections', argv['max-connections']],
              ['max_bandwidth_mbps', argv['max-bandwidth-mbps']],
            ];
            for (const [key, value] of given) {
              if (value === undefined) continue;
              if (!(Number.isFinite(value) && value > 0)) throw new UsageError(`--${key.replace(/_/g, '-')}: a positive number is needed, got ${value}`);
              changes[key] = value;
            }
            for (const key of argv.delete ?? []) changes[key] = null;
            if (Object.keys(changes).length === 0) throw new UsageError('nothing to change: give --max-topics, --max-connections, --max-bandwidth-mbps and/or --delete');
            const error = await client.alterClientQuotas([{ type: 'tenant', name }], changes, argv['validate-only']);
            if (error) throw error;
            if (argv.json) await printJson({ tenant: name, changes, validateOnly: argv['validate-only'] });
            else await out(`tenant=${name ?? '<default>'}: ${Object.entries(changes).map(([k, v]) => (v === null ? `${k} removed` : `${k}=${v}`)).join(', ')}${argv['validate-only'] ? ' (validated, not changed)' : ''}\n`);
          }),
      )
      .demandCommand(1, 'Name a tenant command: list, describe or quota.'),
  );
}

/** Each quota that is stored for the tenant or the default tenant, with where it came from. */
function effective(own: readonly QuotaEntry[], fallback: readonly QuotaEntry[]): Record<string, { value: number; from: string }> {
  const result: Record<string, { value: number; from: string }> = {};
  for (const [k, v] of Object.entries(fallback[0]?.values ?? {})) result[k] = { value: v, from: 'tenant=<default>' };
  for (const [k, v] of Object.entries(own[0]?.values ?? {})) result[k] = { value: v, from: 'own' };
  return result;
}
