/** `streambus topic create|list|describe|delete|alter-config|add-partitions|delete-records`: topic administration. */
import type { Argv } from 'yargs';
import type { ConfigOperation, KafkaClient, TopicInfo } from '../../client/index.ts';
import { isKafkaError } from '../../client/index.ts';
import { CommandError, out, parsePairs, printJson, runWithClient, UsageError, withClientOptions, type ClientArgs } from '../client-command.ts';
import { formatTable } from '../format.ts';
import { existingTopic } from './existing-topic.ts';
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
            const configs = Object.fromEntries(parsePairs('--config', argv.config) as [string, string][]);
            const partitions = positiveOrDefault('--partitions', argv.partitions);
            const replicationFactor = positiveOrDefault('--replication-factor', argv['replication-factor']);
            const [result] = await client.createTopics([{ name: argv.name, partitions, replicationFactor, configs }]);
            if (result!.error) {
              if (argv['if-not-exists'] && result!.error.kafkaName === 'TOPIC_ALREADY_EXISTS') {
                if (argv.json) await printJson({ name: argv.name, created: false });
                else await out(`topic ${argv.name} already exists\n`);
                return;
              }
              throw result!.error;
            }
            if (argv.json) await printJson({ name: result!.name, created: true, topicId: result!.topicId, partitions: result!.partitions, replicationFactor: result!.replicationFactor });
            else await out(`created topic ${result!.name} (${describeCount(result!.partitions, 'partition')}, replication factor ${result!.replicationFactor < 0 ? 'default' : result!.replicationFactor})\n`);
          }),
      )
      .command(
        'list',
        'List topics',
        (c) => c.option('include-internal', { type: 'boolean', default: false, describe: 'Also list internal topics such as __consumer_offsets' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const md = await client.metadata(null);
            const topics = md.topics.filter((t) => argv['include-internal'] || !t.isInternal).sort((a, b) => a.name.localeCompare(b.name));
            if (argv.json) {
              await printJson(topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.length, internal: t.isInternal })));
              return;
            }
            await out(formatTable(['TOPIC', 'PARTITIONS', 'INTERNAL'], topics.map((t) => [t.name, String(t.partitions.length), t.isInternal ? 'yes' : 'no'])));
          }),
      )
      .command(
        'describe <name>',
        'Show partitions (leader, replicas, offsets) and configs of a topic',
        (c) => c.positional('name', { type: 'string', demandOption: true }),
        (argv) => runWithClient(argv, (client) => describeTopic(client, argv.name, argv)),
      )
      .command(
        'delete <name>',
        'Delete a topic and its data',
        (c) => c.positional('name', { type: 'string', demandOption: true }).option('if-exists', { type: 'boolean', default: false, describe: 'Succeed when the topic does not exist' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const [result] = await client.deleteTopics([argv.name]);
            let deleted = true;
            if (result!.error) {
              if (result!.error.kafkaName !== 'UNKNOWN_TOPIC_OR_PARTITION') throw result!.error;
              if (!argv['if-exists']) throw new CommandError(`topic ${argv.name} does not exist`);
              deleted = false;
            }
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
            const error = await client.alterConfigs('topic', argv.name, ops);
            if (error) throw error.kafkaName === 'UNKNOWN_TOPIC_OR_PARTITION' ? new CommandError(`topic ${argv.name} does not exist`) : error;
            if (argv.json) await printJson({ name: argv.name, altered: ops });
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
            const [result] = await client.createPartitions([{ topic: argv.name, count }]);
            if (result!.error) throw result!.error.kafkaName === 'UNKNOWN_TOPIC_OR_PARTITION' ? new CommandError(`topic ${argv.name} does not exist`) : result!.error;
            if (argv.json) await printJson({ name: argv.name, partitions: count });
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

async function describeTopic(client: KafkaClient, name: string, argv: ClientArgs): Promise<void> {
  const topic = await existingTopic(client, name);
  const indexes = topic.partitions.map((p) => p.partition);
  const [earliest, latest, configs] = await Promise.all([
    client.listOffsets(name, indexes, 'earliest', 0),
    client.listOffsets(name, indexes, 'latest', 0),
    client.describeConfigs([{ type: 'topic', name }]),
  ]);
  const described = configs[0]!;
  if (described.error) throw described.error;
  const partitions = topic.partitions.map((p, i) => ({
    partition: p.partition,
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicas: p.replicas,
    isr: p.isr,
    offlineReplicas: p.offlineReplicas,
    logStartOffset: earliest[i]!.offset,
    highWatermark: latest[i]!.offset,
  }));
  if (argv.json) {
    await printJson({ name, topicId: topic.topicId, internal: topic.isInternal, partitions, configs: described.entries });
    return;
  }
  const messages = partitions.reduce((sum, p) => sum + (p.highWatermark - p.logStartOffset), 0n);
  let text = `Topic ${name}  id ${topic.topicId ?? '-'}  partitions ${partitions.length}  messages ${messages}${topic.isInternal ? '  (internal)' : ''}\n\n`;
  text += formatTable(
    ['PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'START-OFFSET', 'END-OFFSET'],
    partitions.map((p) => [String(p.partition), String(p.leader), String(p.leaderEpoch), p.replicas.join(','), p.isr.join(','), String(p.logStartOffset), String(p.highWatermark)]),
  );
  text += '\n' + formatTable(['CONFIG', 'VALUE', 'SOURCE'], described.entries.map((e) => [e.name, e.sensitive ? '(sensitive)' : (e.value ?? ''), e.source]));
  await out(text);
}
