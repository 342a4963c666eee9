/**
 * `streambus topic delete-records <name> --before <offset|end>`: Kafka's DeleteRecords, the log start
 * of each chosen partition (all of them by default) moves up to the offset, and the records below it
 * can no longer be read. Prints each partition's new log start (low watermark).
 */
import type { Argv } from 'yargs';
import type { KafkaClient } from '../../client/index.ts';
import { out, printJson, runWithClient, UsageError, type ClientArgs } from '../client-command.ts';
import { formatTable } from '../format.ts';
import { existingTopic } from '../../admin/existing-topic.ts';

interface DeleteRecordsArgs extends ClientArgs {
  name: string;
  before: string;
  partition?: number[];
}

/** Kafka's DeleteRecords offset for "everything written so far". */
const HIGH_WATERMARK = -1n;

export function deleteRecordsCommand(t: Argv<ClientArgs>): Argv<ClientArgs> {
  return t.command(
    'delete-records <name>',
    'Delete the records of a topic below an offset (moves the log start)',
    (c) =>
      c
        .positional('name', { type: 'string', demandOption: true })
        .option('before', { type: 'string', demandOption: true, describe: 'Records below this offset go; "end" for all records written so far' })
        .option('partition', { alias: 'p', type: 'number', array: true, describe: 'Partition (repeatable; default: every partition)' })
        .example('$0 topic delete-records orders --before 1000 --partition 0', ''),
    (argv) => runWithClient(argv, (client) => run(client, argv as DeleteRecordsArgs)),
  );
}

function parseBefore(text: string): bigint {
  if (text === 'end') return HIGH_WATERMARK;
  if (!/^\d+$/.test(text)) throw new UsageError(`--before must be an offset (a non-negative integer) or "end", got ${JSON.stringify(text)}`);
  return BigInt(text);
}

async function run(client: KafkaClient, argv: DeleteRecordsArgs): Promise<void> {
  const offset = parseBefore(argv.before);
  const topic = await existingTopic(client, argv.name);
  const known = topic.partitions.map((p) => p.partition);
  const chosen = argv.partition ?? known;
  const unknown = chosen.filter((p) => !known.includes(p));
  if (unknown.length > 0) throw new UsageError(`topic ${argv.name} has partitions 0-${known.length - 1}, not ${unknown.join(', ')}`);
  const result = await client.deleteRecords(argv.name, chosen.map((partition) => ({ partition, offset })));
  if (argv.json) {
    await printJson({ name: argv.name, partitions: result.map((r) => ({ partition: r.partition, logStartOffset: r.lowWatermark })) });
    return;
  }
  await out(formatTable(['PARTITION', 'START-OFFSET'], result.map((r) => [String(r.partition), String(r.lowWatermark)])));
}
