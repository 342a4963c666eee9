/**
 * `streambus group list|describe|reset-offsets|delete`: consumer group administration.
 *
 * reset-offsets works like Kafka's tool: a dry run by default that prints the offsets it would commit;
 * --execute commits them, and only while the group has no active members (the coordinator refuses
 * commits from outside a live generation).
 */
import type { Argv } from 'yargs';
import type { CommittedOffset, GroupDescription, KafkaClient } from '../../client/index.ts';
import { CommandError, integerOption, out, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';
import type { CliServices } from '../services.ts';
import { existingTopic } from './existing-topic.ts';

export function groupCommand(y: Argv, _services: CliServices): Argv {
  return y.command('group', 'List, describe, reset and delete consumer groups', (g) =>
    withClientOptions(g)
      .command(
        'list',
        'List consumer groups',
        (c) => c,
        (argv) =>
          runWithClient(argv, async (client) => {
            const groups = await client.listGroups();
            if (argv.json) await printJson(groups);
            else await out(formatTable(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((x) => [x.groupId, x.state ?? '', x.protocolType])));
          }),
      )
      .command(
        'describe <group>',
        'Show members, assignments, committed offsets and lag of a group',
        (c) => c.positional('group', { type: 'string', demandOption: true }),
        (argv) => runWithClient(argv, (client) => describeGroup(client, argv.group, argv.json)),
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
            await resetOffsets(client, {
              group: argv.group,
              topic: argv.topic,
              partitions: argv.partition?.map((p) => integerOption('--partition', p)!),
              target,
              toOffset,
              execute: argv.execute,
              json: argv.json,
            });
          }),
      )
      .command(
        'delete <group>',
        'Delete an inactive group and its committed offsets',
        (c) => c.positional('group', { type: 'string', demandOption: true }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const [result] = await client.deleteGroups([argv.group]);
            const error = result!.error;
            if (error?.kafkaName === 'GROUP_ID_NOT_FOUND') throw new CommandError(`group ${argv.group} does not exist`);
            if (error?.kafkaName === 'NON_EMPTY_GROUP') throw new CommandError(`group ${argv.group} has active members; stop them before deleting it`);
            if (error) throw error;
            if (argv.json) await printJson({ groupId: argv.group, deleted: true });
            else await out(`deleted group ${argv.group}\n`);
          }),
      )
      .demandCommand(1, 'Name a group command: list, describe, reset-offsets or delete.'),
  );
}

async function describeGroup(client: KafkaClient, groupId: string, json: boolean): Promise<void> {
  const [group] = await client.describeGroups([groupId]);
  if (group!.error) throw group!.error;
  const committed = await client.offsetFetch(groupId, null);
  if (group!.state === 'Dead' && committed.length === 0) throw new CommandError(`group ${groupId} does not exist`);
  const rows = await offsetRows(client, group!, committed);
  if (json) {
    await printJson({
      groupId,
      state: group!.state,
      protocolType: group!.protocolType,
      protocol: group!.protocol,
      members: group!.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost, assignment: m.assignment })),
      offsets: rows,
    });
    return;
  }
  let text = `Group ${groupId}  state ${group!.state}  protocol ${group!.protocol || '-'}  members ${group!.members.length}\n\n`;
  text += formatTable(
    ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
    rows.map((r) => [r.topic, String(r.partition), dash(r.committedOffset), String(r.logEndOffset), dash(r.lag), r.memberId ?? '-', r.host ?? '-', r.clientId ?? '-']),
  );
  if (group!.members.some((m) => (m.assignment ?? []).length === 0)) {
    text += '\n' + formatTable(['MEMBER WITHOUT PARTITIONS', 'HOST', 'CLIENT-ID'], group!.members.filter((m) => (m.assignment ?? []).length === 0).map((m) => [m.memberId, m.clientHost, m.clientId]));
  }
  await out(text);
}

function dash(v: bigint | null): string {
  return v === null ? '-' : String(v);
}

interface OffsetRow {
  topic: string;
  partition: number;
  committedOffset: bigint | null;
  logEndOffset: bigint;
  lag: bigint | null;
  memberId: string | null;
  host: string | null;
  clientId: string | null;
}

/** One row per partition that is committed or assigned, with the log end offset and the lag. */
async function offsetRows(client: KafkaClient, group: GroupDescription, committed: CommittedOffset[]): Promise<OffsetRow[]> {
  const owners = new Map<string, { memberId: string; host: string; clientId: string }>();
  for (const m of group.members) for (const a of m.assignment ?? []) for (const p of a.partitions) owners.set(`${a.topic}:${p}`, { memberId: m.memberId, host: m.clientHost, clientId: m.clientId });
  const keys = new Map<string, { topic: string; partition: number }>();
  for (const c of committed) keys.set(`${c.topic}:${c.partition}`, { topic: c.topic, partition: c.partition });
  for (const m of group.members) for (const a of m.assignment ?? []) for (const p of a.partitions) keys.set(`${a.topic}:${p}`, { topic: a.topic, partition: p });
  const byTopic = new Map<string, number[]>();
  for (const k of keys.values()) byTopic.set(k.topic, [...(byTopic.get(k.topic) ?? []), k.partition]);
  const ends = new Map<string, bigint>();
  for (const [topic, partitions] of byTopic) {
    for (const o of await client.listOffsets(topic, partitions, 'latest')) ends.set(`${topic}:${o.partition}`, o.offset);
  }
  return [...keys]
    .map(([key, k]) => {
      const c = committed.find((x) => x.topic === k.topic && x.partition === k.partition);
      const offset = c && c.offset >= 0n ? c.offset : null;
      const end = ends.get(key) ?? -1n;
      const owner = owners.get(key);
      return { ...k, committedOffset: offset, logEndOffset: end, lag: offset === null ? null : end - offset > 0n ? end - offset : 0n, memberId: owner?.memberId ?? null, host: owner?.host ?? null, clientId: owner?.clientId ?? null };
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

interface ResetOptions {
  group: string;
  topic: string;
  partitions: number[] | undefined;
  target: 'earliest' | 'latest' | 'offset';
  toOffset: number | undefined;
  execute: boolean;
  json: boolean;
}

async function resetOffsets(client: KafkaClient, o: ResetOptions): Promise<void> {
  const topic = await existingTopic(client, o.topic);
  const all = topic.partitions.map((p) => p.partition);
  const partitions = o.partitions ?? all;
  const unknown = partitions.find((p) => !all.includes(p));
  if (unknown !== undefined) throw new CommandError(`topic ${o.topic} has no partition ${unknown}`);
  const [group] = await client.describeGroups([o.group]);
  if (group!.error) throw group!.error;
  if (o.execute && group!.state !== 'Empty' && group!.state !== 'Dead') {
    throw new CommandError(`group ${o.group} is ${group!.state} with ${group!.members.length} member(s); offsets can be reset only while it is inactive`);
  }
  const [earliest, latest, committed] = await Promise.all([
    client.listOffsets(o.topic, partitions, 'earliest'),
    client.listOffsets(o.topic, partitions, 'latest'),
    client.offsetFetch(o.group, [{ topic: o.topic, partitions }]),
  ]);
  const plan = partitions.map((partition, i) => {
    const low = earliest[i]!.offset;
    const high = latest[i]!.offset;
    let next = o.target === 'earliest' ? low : o.target === 'latest' ? high : BigInt(o.toOffset!);
    // Kafka's tool moves an offset outside the log to its nearest end.
    if (next < low) next = low;
    if (next > high) next = high;
    const current = committed.find((c) => c.partition === partition);
    return { topic: o.topic, partition, currentOffset: current && current.offset >= 0n ? current.offset : null, newOffset: next };
  });
  if (o.execute) await client.offsetCommit(o.group, plan.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })));
  if (o.json) {
    await printJson({ groupId: o.group, executed: o.execute, offsets: plan });
    return;
  }
  await out(formatTable(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'], plan.map((p) => [p.topic, String(p.partition), dash(p.currentOffset), String(p.newOffset)])));
  if (!o.execute) process.stderr.write('dry run: nothing was changed; add --execute to commit these offsets\n');
}
