/**
 * `streambus group list|describe|reset-offsets|delete`: consumer group administration.
 * The operations themselves live in admin/group-operations.ts, shared with the admin API.
 *
 * reset-offsets works like Kafka's tool: a dry run by default that prints the offsets it would commit;
 * --execute commits them, and only while the group has no active members.
 */
import type { Argv } from 'yargs';
import type { KafkaClient } from '../../client/index.ts';
import { deleteGroup, describeGroup, listGroups, resetGroupOffsets } from '../../admin/group-operations.ts';
import { integerOption, out, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';
import type { CliServices } from '../services.ts';

export function groupCommand(y: Argv, _services: CliServices): Argv {
  return y.command('group', 'List, describe, reset and delete consumer groups', (g) =>
    withClientOptions(g)
      .command(
        'list',
        'List consumer groups',
        (c) => c,
        (argv) =>
          runWithClient(argv, async (client) => {
            const groups = await listGroups(client);
            if (argv.json) await printJson(groups);
            else await out(formatTable(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((x) => [x.groupId, x.state ?? '', x.protocolType])));
          }),
      )
      .command(
        'describe <group>',
        'Show members, assignments, committed offsets and lag of a group',
        (c) => c.positional('group', { type: 'string', demandOption: true }),
        (argv) => runWithClient(argv, (client) => printGroup(client, argv.group, argv.json)),
      )
      .command(
        'reset-offsets <group>',
        'Move the committed offsets of an inactive group (dry run unless --execute)',
        (c) =>
          c
            .positional('group', { type: 'string', demandOption: true })
            .option('topic', { alias: 't', type: 'string', demandOption: true, describe: 'Topic whose offsets to reset' })
            .option('partition', { alias: 'p', type: 'number', array: true, describe: 'Only these partitions (repeatable; default: all)' })
            .option('to-earliest', { type: 'boolean', describe: 'Reset to the earliest offset' })
            .option('to-latest', { type: 'boolean', describe: 'Reset to the end' })
            .option('to-offset', { type: 'number', describe: 'Reset to this offset (kept inside each partition)' })
            .option('execute', { type: 'boolean', default: false, describe: 'Commit the new offsets (otherwise only show them)' })
            .conflicts('to-earliest', ['to-latest', 'to-offset'])
            .conflicts('to-latest', 'to-offset')
            .example('$0 group reset-offsets audit --topic orders --to-earliest --execute', ''),
        (argv) =>
          runWithClient(argv, async (client) => {
            const target = argv['to-earliest'] ? 'earliest' : argv['to-latest'] ? 'latest' : argv['to-offset'] !== undefined ? 'offset' : null;
            if (target === null) throw new UsageError('name where to: --to-earliest, --to-latest or --to-offset N');
            const toOffset = integerOption('--to-offset', argv['to-offset']);
            const plan = await resetGroupOffsets(client, {
              groupId: argv.group,
              topic: argv.topic,
              ...(argv.partition === undefined ? {} : { partitions: argv.partition.map((p) => integerOption('--partition', p)!) }),
              target: target === 'offset' ? { to: 'offset', offset: BigInt(toOffset!) } : { to: target },
              execute: argv.execute,
            });
            if (argv.json) {
              await printJson(plan);
              return;
            }
            await out(formatTable(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], plan.offsets.map((p) => [p.topic, String(p.partition), dash(p.currentOffset), String(p.newOffset)])));
            if (!plan.executed) process.stderr.write('dry run: nothing was changed; add --execute to commit these offsets\n');
          }),
      )
      .command(
        'delete <group>',
        'Delete an inactive group and its committed offsets',
        (c) => c.positional('group', { type: 'string', demandOption: true }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const deleted = await deleteGroup(client, argv.group);
            if (argv.json) await printJson(deleted);
            else await out(`deleted group ${argv.group}\n`);
          }),
      )
      .demandCommand(1, 'Name a group command: list, describe, reset-offsets or delete.'),
  );
}

async function printGroup(client: KafkaClient, groupId: string, json: boolean): Promise<void> {
  const group = await describeGroup(client, groupId);
  if (json) {
    await printJson(group);
    return;
  }
  let text = `Group ${groupId}  state ${group.state}  protocol ${group.protocol || '-'}  members ${group.members.length}\n\n`;
  text += formatTable(
    ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
    group.offsets.map((r) => [r.topic, String(r.partition), dash(r.committedOffset), String(r.logEndOffset), dash(r.lag), r.memberId ?? '-', r.host ?? '-', r.clientId ?? '-']),
  );
  const idle = group.members.filter((m) => (m.assignment ?? []).length === 0);
  if (idle.length > 0) text += '\n' + formatTable(['MEMBER WITHOUT PARTITIONS', 'HOST', 'CLIENT-ID'], idle.map((m) => [m.memberId, m.host, m.clientId]));
  await out(text);
}

function dash(v: bigint | null): string {
  return v === null ? '-' : String(v);
}
