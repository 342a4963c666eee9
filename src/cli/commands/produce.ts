/**
 * `streambus produce`: one message per input line (stdin or --file), batched per partition, with several
 * requests in flight. Keys come from --key-separator, headers from --header (the same on every message).
 * Partition: --partition when given; else murmur2 of the key (as Kafka's default partitioner); unkeyed
 * lines fill one batch per partition in turn.
 */
import { createReadStream } from 'node:fs';
import type { Argv } from 'yargs';
import { isKafkaError, partitionForKey, type Acks, type CompressionName, type KafkaClient, type ProduceRecord } from '../../client/index.ts';
import { CommandError, integerOption, out, parsePairs, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatBytes } from '../format.ts';
import { splitLines } from '../line-splitter.ts';
import { Progress } from '../progress.ts';
import type { CliServices } from '../services.ts';

/** Uncompressed bytes per batch: under the broker's default max.message.bytes (1048588) with room for overhead. */
const BATCH_BYTES_MAX = 960 * 1024;
/** Per-record overhead estimate (lengths, deltas, attributes) used for the batch byte cap. */
const RECORD_OVERHEAD_BYTES = 16;

interface PartitionStats {
  messages: number;
  firstOffset: bigint | null;
  lastOffset: bigint | null;
}

interface Pending {
  records: ProduceRecord[];
  bytes: number;
}

export function produceCommand(y: Argv, _services: CliServices): Argv {
  return y.command(
    'produce',
    'Produce lines from stdin or a file as messages',
    (p) =>
      withClientOptions(p)
        .option('topic', { alias: 't', type: 'string', demandOption: true, describe: 'Topic to write to' })
        .option('partition', { alias: 'p', type: 'number', describe: 'Write every message to this partition' })
        .option('file', { alias: 'f', type: 'string', describe: 'Read lines from this file instead of stdin' })
        .option('key-separator', { alias: 'K', type: 'string', describe: 'Split each line at the first SEP into key and value' })
        .option('header', { alias: 'H', type: 'string', array: true, describe: 'Header key=value added to every message (repeatable)' })
        .option('acks', { type: 'string', choices: ['-1', '0', '1', 'all'], default: '-1', describe: 'Acknowledgements to wait for' })
        .option('compression', { alias: 'z', type: 'string', choices: ['none', 'gzip', 'snappy', 'lz4', 'zstd'], default: 'none', describe: 'Batch compression codec' })
        .option('batch-size', { type: 'number', default: 10_000, describe: 'Most messages per batch (batches also stop near 1 MiB)' })
        .option('max-in-flight', { type: 'number', default: 5, describe: 'Produce requests awaiting an answer at once' })
        .option('progress', { type: 'boolean', describe: 'Show progress on stderr (default: when stderr is a terminal)' })
        .example('seq 1 1000 | $0 produce -t numbers', '')
        .example("$0 produce -t orders -K : --header source=import -f orders.txt", 'lines like key:value'),
    (argv) =>
      runWithClient(argv, async (client) => {
        const partition = integerOption('--partition', argv.partition);
        const batchSize = integerOption('--batch-size', argv['batch-size'], 1)!;
        const maxInFlight = integerOption('--max-in-flight', argv['max-in-flight'], 1)!;
        const sep = argv['key-separator'];
        if (sep === '') throw new UsageError('--key-separator must not be empty');
        const headers = parsePairs('--header', argv.header, true).map(([key, value]) => ({ key, value }));
        const acks = (argv.acks === 'all' ? -1 : Number(argv.acks)) as Acks;
        const topic = await topicForProduce(client, argv.topic);
        if (partition !== undefined && partition >= topic.partitions) throw new CommandError(`topic ${argv.topic} has ${topic.partitions} partitions; there is no partition ${partition}`);
        const input = argv.file ? createReadStream(argv.file) : process.stdin;
        const started = Date.now();
        const stats = await produceLines(client, input, {
          topic: argv.topic,
          partitions: topic.partitions,
          partition,
          separator: sep === undefined ? null : Buffer.from(sep, 'utf8'),
          headers,
          acks,
          compression: argv.compression as CompressionName,
          batchSize,
          maxInFlight,
          progress: new Progress(`produce ${argv.topic}`, Progress.enabledFor(argv.progress)),
        });
        const elapsedMs = Date.now() - started;
        const partitions = [...stats.byPartition].sort((a, b) => a[0] - b[0]);
        if (argv.json) {
          await printJson({
            topic: argv.topic,
            messages: stats.messages,
            bytes: stats.bytes,
            elapsedMs,
            partitions: partitions.map(([p, s]) => ({ partition: p, messages: s.messages, firstOffset: s.firstOffset, lastOffset: s.lastOffset })),
          });
        } else {
          await out(`produced ${stats.messages} message${stats.messages === 1 ? '' : 's'} (${formatBytes(stats.bytes)}) to ${argv.topic} in ${(elapsedMs / 1000).toFixed(2)} s\n`);
        }
      }),
  );
}

async function topicForProduce(client: KafkaClient, name: string): Promise<{ partitions: number }> {
  try {
    // Producers ask for auto-creation, as Kafka's do; the broker's auto.create.topics.enable decides.
    const t = await client.topic(name, { allowAutoCreate: true });
    return { partitions: t.partitions.length };
  } catch (err) {
    if (isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new CommandError(`topic ${name} does not exist (and the broker does not create topics automatically)`);
    if (isKafkaError(err, 'INVALID_TOPIC_EXCEPTION')) throw new CommandError(`"${name}" is not a valid topic name`);
    throw err;
  }
}

interface ProduceLinesOptions {
  topic: string;
  partitions: number;
  partition: number | undefined;
  separator: Buffer | null;
  headers: { key: string; value: string | null }[];
  acks: Acks;
  compression: CompressionName;
  batchSize: number;
  maxInFlight: number;
  progress: Progress;
}

async function produceLines(client: KafkaClient, input: AsyncIterable<Buffer | string>, o: ProduceLinesOptions) {
  const pending = new Map<number, Pending>();
  const byPartition = new Map<number, PartitionStats>();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  let messages = 0;
  let bytes = 0;
  let sent = 0;
  let roundRobin = 0;

  const send = async (partition: number, batch: Pending) => {
    const result = await client.produce(o.topic, partition, batch.records, { acks: o.acks, compression: o.compression });
    const s = byPartition.get(partition) ?? { messages: 0, firstOffset: null, lastOffset: null };
    s.messages += batch.records.length;
    if (result.baseOffset >= 0n) {
      if (s.firstOffset === null || result.baseOffset < s.firstOffset) s.firstOffset = result.baseOffset;
      const last = result.baseOffset + BigInt(batch.records.length - 1);
      if (s.lastOffset === null || last > s.lastOffset) s.lastOffset = last;
    }
    byPartition.set(partition, s);
    sent += batch.records.length;
    o.progress.update(sent, bytes);
  };
  const flush = async (partition: number) => {
    const batch = pending.get(partition);
    if (!batch || batch.records.length === 0) return;
    pending.delete(partition);
    while (inFlight.size >= o.maxInFlight) await Promise.race(inFlight);
    if (failure) throw failure;
    const p: Promise<void> = send(partition, batch).then(
      () => void inFlight.delete(p),
      (err: unknown) => {
        inFlight.delete(p);
        failure ??= err;
      },
    );
    inFlight.add(p);
  };

  for await (const lines of splitLines(input)) {
    for (const line of lines) {
      let key: Buffer | null = null;
      let value = line;
      if (o.separator) {
        const at = line.indexOf(o.separator);
        if (at >= 0) {
          key = line.subarray(0, at);
          value = line.subarray(at + o.separator.length);
        }
      }
      const partition = o.partition ?? (key ? partitionForKey(key, o.partitions) : roundRobin % o.partitions);
      const size = (key?.length ?? 0) + value.length + RECORD_OVERHEAD_BYTES;
      let batch = pending.get(partition);
      if (batch && batch.bytes + size > BATCH_BYTES_MAX) {
        await flush(partition);
        if (o.partition === undefined && !key) roundRobin++;
        batch = undefined;
      }
      if (!batch) {
        batch = { records: [], bytes: 0 };
        pending.set(partition, batch);
      }
      batch.records.push({ key, value, headers: o.headers });
      batch.bytes += size;
      messages++;
      bytes += line.length;
      if (batch.records.length >= o.batchSize) {
        await flush(partition);
        if (o.partition === undefined && !key) roundRobin++;
      }
    }
    if (failure) break;
  }
  for (const partition of [...pending.keys()]) await flush(partition);
  await Promise.all(inFlight);
  if (failure) throw failure;
  o.progress.done(sent, bytes);
  return { messages, bytes, byPartition };
}
