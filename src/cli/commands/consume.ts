/**
 * `streambus consume`: print messages of a topic, from an offset, the beginning or the end, either from
 * chosen partitions or as a member of a consumer group (--group, committing what it printed). Stops after
 * --count messages, at the end of the partitions with --exit-at-end, after --timeout-ms without a message,
 * or on SIGINT/SIGTERM (a group member then commits and leaves the group).
 *
 * Exit codes: 0 when it stopped as asked; 1 when --count was given and --timeout-ms passed before that
 * many messages arrived, or on any error.
 */
import type { Argv } from 'yargs';
import { Fetcher, type ConsumedRecord, type GroupConsumer, type KafkaClient, type TopicPartitionOffset } from '../../client/index.ts';
import { CommandError, integerOption, out, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { Progress } from '../progress.ts';
import { compileFormat, recordJson } from '../record-format.ts';
import type { CliServices } from '../services.ts';
import { existingTopic } from '../../admin/existing-topic.ts';

/** Longest single long poll, so that stop conditions (signals, timeouts) are checked often. */
const POLL_WAIT_MAX_MS = 500;

/** What the loop reads from: fixed partitions, or a group member. */
interface Source {
  poll(maxRecords: number, maxWaitMs: number): Promise<ConsumedRecord[]>;
  atEnd(): boolean;
  /** After each printed batch and at the end (a group commits here). */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

export function consumeCommand(y: Argv, _services: CliServices): Argv {
  return y.command(
    'consume',
    'Print messages of a topic',
    (c) =>
      withClientOptions(c)
        .option('topic', { alias: 't', type: 'string', demandOption: true, describe: 'Topic to read' })
        .option('partition', { alias: 'p', type: 'number', describe: 'Read only this partition (default: all)' })
        .option('offset', { alias: 'o', type: 'number', describe: 'Start at this offset (negative: that many before the end)' })
        .option('from-beginning', { type: 'boolean', describe: 'Start at the earliest offset (the default)' })
        .option('from-end', { type: 'boolean', describe: 'Start at the end: print only new messages' })
        .option('group', { alias: 'g', type: 'string', describe: 'Consume as a member of this group, from its committed offsets' })
        .option('assignor', { type: 'string', choices: ['range', 'roundrobin'], default: 'range', describe: 'Assignor a group leader runs (with --group)' })
        .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many messages' })
        .option('exit-at-end', { alias: 'e', type: 'boolean', default: false, describe: 'Stop once every partition is read to its end' })
        .option('timeout-ms', { type: 'number', describe: 'Stop when no message arrived for this long' })
        .option('format', { type: 'string', describe: 'Template per message (default %v): %t %p %o %T %k %v %K %S %h %%' })
        .option('progress', { type: 'boolean', describe: 'Show progress on stderr (default: when stderr is a terminal)' })
        .conflicts('offset', ['from-beginning', 'from-end', 'group'])
        .conflicts('from-beginning', 'from-end')
        .conflicts('group', 'partition')
        .example('$0 consume -t orders --exit-at-end', 'print every message, then stop')
        .example("$0 consume -t orders -g audit --format '%p:%o %k=%v' --count 10", ''),
    (argv) =>
      runWithClient(argv, async (client) => {
        const count = integerOption('--count', argv.count, 1);
        const partition = integerOption('--partition', argv.partition);
        const idleTimeoutMs = integerOption('--timeout-ms', argv['timeout-ms'], 1);
        if (argv.group === '') throw new UsageError('--group must not be empty');
        if (argv.json && argv.format !== undefined) throw new UsageError('--json and --format are mutually exclusive');
        const render = argv.json ? (r: ConsumedRecord) => [Buffer.from(recordJson(r), 'utf8')] : compileFormat(argv.format ?? '%v');
        const topic = await existingTopic(client, argv.topic);
        const start = argv['from-end'] ? 'latest' : 'earliest';
        let source: Source;
        if (argv.group !== undefined) {
          const member = client.groupConsumer({ groupId: argv.group, topics: [argv.topic], assignor: argv.assignor as 'range' | 'roundrobin', resetPolicy: start });
          source = groupSource(member);
        } else {
          if (partition !== undefined && !topic.partitions.some((p) => p.partition === partition)) {
            throw new CommandError(`topic ${argv.topic} has ${topic.partitions.length} partitions; there is no partition ${partition}`);
          }
          const partitions = partition === undefined ? topic.partitions.map((p) => p.partition) : [partition];
          source = partitionSource(client, await startPositions(client, argv.topic, partitions, argv.offset, start));
        }
        const progress = new Progress(`consume ${argv.topic}`, Progress.enabledFor(argv.progress));
        const result = await consumeLoop(source, { count, idleTimeoutMs, exitAtEnd: argv['exit-at-end'], render, progress });
        if (result.timedOut && count !== undefined) {
          throw new CommandError(`only ${result.messages} of ${count} messages arrived before ${idleTimeoutMs} ms passed without one`);
        }
      }),
  );
}

async function startPositions(client: KafkaClient, topic: string, partitions: number[], offset: number | undefined, start: 'earliest' | 'latest'): Promise<TopicPartitionOffset[]> {
  if (offset === undefined) return (await client.listOffsets(topic, partitions, start)).map((o) => ({ topic, partition: o.partition, offset: o.offset }));
  if (!Number.isInteger(offset)) throw new UsageError(`--offset must be an integer, got ${offset}`);
  const [earliest, latest] = await Promise.all([client.listOffsets(topic, partitions, 'earliest'), client.listOffsets(topic, partitions, 'latest')]);
  return partitions.map((partition, i) => {
    const low = earliest[i]!.offset;
    const high = latest[i]!.offset;
    if (offset < 0) {
      const back = high + BigInt(offset);
      return { topic, partition, offset: back < low ? low : back };
    }
    const at = BigInt(offset);
    if (at < low || at > high) throw new CommandError(`offset ${offset} is outside partition ${topic}-${partition}, which holds offsets ${low} to ${high}`);
    return { topic, partition, offset: at };
  });
}

function partitionSource(client: KafkaClient, positions: TopicPartitionOffset[]): Source {
  // When retention removes the position, go on from the earliest offset still there.
  const fetcher = new Fetcher(client, 'earliest');
  fetcher.assign(positions);
  return {
    poll: (maxRecords, maxWaitMs) => fetcher.poll(maxRecords, maxWaitMs),
    atEnd: () => fetcher.atEnd(),
    checkpoint: async () => undefined,
    close: async () => undefined,
  };
}

function groupSource(member: GroupConsumer): Source {
  return {
    poll: (maxRecords, maxWaitMs) => member.poll(maxRecords, maxWaitMs),
    atEnd: () => member.atEnd(),
    checkpoint: async () => {
      // false: the group rebalanced; the next poll rejoins and the new owner re-reads what was not committed.
      await member.commit();
    },
    close: () => member.close(),
  };
}

interface LoopOptions {
  count: number | undefined;
  idleTimeoutMs: number | undefined;
  exitAtEnd: boolean;
  render: (r: ConsumedRecord) => Buffer[];
  progress: Progress;
}

async function consumeLoop(source: Source, o: LoopOptions): Promise<{ messages: number; timedOut: boolean }> {
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let messages = 0;
  let bytes = 0;
  let timedOut = false;
  let lastMessageAt = Date.now();
  try {
    while (!stop) {
      if (o.count !== undefined && messages >= o.count) break;
      if (o.exitAtEnd && source.atEnd()) break;
      let wait = POLL_WAIT_MAX_MS;
      if (o.idleTimeoutMs !== undefined) {
        const left = o.idleTimeoutMs - (Date.now() - lastMessageAt);
        if (left <= 0) {
          timedOut = true;
          break;
        }
        wait = Math.min(wait, left);
      }
      const records = await source.poll(o.count === undefined ? Number.MAX_SAFE_INTEGER : o.count - messages, wait);
      if (records.length === 0) continue;
      lastMessageAt = Date.now();
      const chunks: Buffer[] = [];
      for (const r of records) for (const piece of o.render(r)) chunks.push(piece);
      const data = Buffer.concat(chunks);
      await out(data);
      messages += records.length;
      bytes += data.length;
      o.progress.update(messages, bytes);
      await source.checkpoint();
    }
    await source.checkpoint();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await source.close();
  }
  o.progress.done(messages, bytes);
  return { messages, timedOut };
}
