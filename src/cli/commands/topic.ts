/** `streambus topic create|list|describe|delete|alter-config|add-partitions|delete-records`: topic administration. */
import type { Argv } from 'yargs';
import type { ConfigOperation, KafkaClient } from '../../client/index.ts';
import { addPartitions, alterTopicConfigs, createTopic, deleteTopic, describeTopic, listTopics } from '../../admin/topic-operations.ts';
import { out, parsePairs, printJson, runWithClient, UsageError, withClientOptions, type ClientArgs } from '../client-command.ts';
import { formatTable } from '../format.ts';
import { deleteRecordsCommand } from './topic-delete-records.ts';
import type { CliServices } from '../services.ts';

export function topicCommand(y: Argv, _services: CliServices): Argv {
  return y.command('topic', 'Create, list, describe, delete and configure topics', (t) =>
    deleteRecordsCommand(withClientOptions(t))
      .command(
        'create <name>',
        'Create a topic',
        (c) =>
          c
            .positional('name', { type: 'string', demandOption: true })
            .option('partitions', { alias: 'p', type: 'number', describe: 'Partition count (default: the broker default)' })
            .option('replication-factor', { alias: 'r', type: 'number', describe: 'Replicas per partition (default: the broker default)' })
            .option('config', { alias: 'c', type: 'string', array: true, describe: 'Topic config key=value (repeatable)' })
            .option('if-not-exists', { type: 'boolean', default: false, describe: 'Succeed when the topic already exists' })
            .example('$0 topic create orders --partitions 6 --config retention.ms=86400000', ''),
        (argv) =>
          runWithClient(argv, async (client) => {
            const result = await createTopic(client, {
              name: argv.name,
              partitions: positiveOrDefault('--partitions', argv.partitions),
              replicationFactor: positiveOrDefault('--replication-factor', argv['replication-factor']),
              configs: Object.fromEntries(parsePairs('--config', argv.config) as [string, string][]),
              ifNotExists: argv['if-not-exists'],
            });
            if (argv.json) await printJson(result);
            else if (!result.created) await out(`topic ${argv.name} already exists\n`);
            else await out(`created topic ${result.name} (${describeCount(result.partitions, 'partition')}, replication factor ${result.replicationFactor < 0 ? 'default' : result.replicationFactor})\n`);
          }),
      )
      .command(
        'list',
        'List topics',
        (c) => c.option('include-internal', { type: 'boolean', default: false, describe: 'Also list internal topics such as __consumer_offsets' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const topics = await listTopics(client, argv['include-internal']);
            if (argv.json) await printJson(topics);
            else await out(formatTable(['TOPIC', 'PARTITIONS', 'INTERNAL'], topics.map((t) => [t.name, String(t.partitions), t.internal ? 'yes' : 'no'])));
          }),
      )
      .command(
        'describe <name>',
        'Show partitions (leader, replicas, offsets) and configs of a topic',
        (c) => c.positional('name', { type: 'string', demandOption: true }),
        (argv) => runWithClient(argv, (client) => printTopic(client, argv.name, argv)),
      )
      .command(
        'delete <name>',
        'Delete a topic and its data',
        (c) => c.positional('name', { type: 'string', demandOption: true }).option('if-exists', { type: 'boolean', default: false, describe: 'Succeed when the topic does not exist' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const { deleted } = await deleteTopic(client, argv.name, argv['if-exists']);
            if (argv.json) await printJson({ name: argv.name, deleted });
            else await out(deleted ? `deleted topic ${argv.name}\n` : `topic ${argv.name} does not exist\n`);
          }),
      )
      .command(
        'alter-config <name>',
        'Set or delete topic configs (other keys are left alone)',
        (c) =>
          c
            .positional('name', { type: 'string', demandOption: true })
            .option('set', { type: 'string', array: true, describe: 'key=value to set (repeatable)' })
            .option('delete', { type: 'string', array: true, describe: 'key to reset to its default (repeatable)' })
            .example('$0 topic alter-config orders --set retention.ms=3600000 --delete cleanup.policy', ''),
        (argv) =>
          runWithClient(argv, async (client) => {
            const ops: ConfigOperation[] = [
              ...parsePairs('--set', argv.set).map(([name, value]) => ({ op: 'set' as const, name, value: value! })),
              ...(argv.delete ?? []).map((name) => ({ op: 'delete' as const, name })),
            ];
            if (ops.length === 0) throw new UsageError('name at least one --set key=value or --delete key');
            const altered = await alterTopicConfigs(client, argv.name, ops);
            if (argv.json) await printJson(altered);
            else await out(`updated ${ops.length} config${ops.length === 1 ? '' : 's'} of topic ${argv.name}\n`);
          }),
      )
      .command(
        'add-partitions <name>',
        'Raise the partition count of a topic',
        (c) => c.positional('name', { type: 'string', demandOption: true }).option('count', { type: 'number', demandOption: true, describe: 'The new total partition count' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const count = positiveOrDefault('--count', argv.count);
            const grown = await addPartitions(client, argv.name, count);
            if (argv.json) await printJson(grown);
            else await out(`topic ${argv.name} now has ${describeCount(count, 'partition')}\n`);
          }),
      )
      .demandCommand(1, 'Name a topic command: create, list, describe, delete, alter-config, add-partitions or delete-records.'),
  );
}

function positiveOrDefault(option: string, value: number | undefined): number {
  if (value === undefined) return -1;
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${option} must be a positive integer, got ${value}`);
  return value;
}

function describeCount(n: number, noun: string): string {
  return n < 0 ? `default ${noun}s` : `${n} ${noun}${n === 1 ? '' : 's'}`;
}

async function printTopic(client: KafkaClient, name: string, argv: ClientArgs): Promise<void> {
  const topic = await describeTopic(client, name);
  if (argv.json) {
    await printJson(topic);
    return;
  }
  const { partitions } = topic;
  const messages = partitions.reduce((sum, p) => sum + (p.highWatermark - p.logStartOffset), 0n);
  let text = `Topic ${name}  id ${topic.topicId ?? '-'}  partitions ${partitions.length}  messages ${messages}${topic.internal ? '  (internal)' : ''}\n\n`;
  text += formatTable(
    ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'START-OFFSET', 'END-OFFSET'],
    partitions.map((p) => [String(p.partition), String(p.leader), String(p.leaderEpoch), p.replicas.join(','), p.isr.join(','), String(p.logStartOffset), String(p.highWatermark)]),
  );
  text += '\n' + formatTable(['CONFIG', 'VALUE', 'SOURCE'], topic.configs.map((e) => [e.name, e.sensitive ? '(sensitive)' : (e.value ?? ''), e.source]));
  await out(text);
}
