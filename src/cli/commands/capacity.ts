/**
 * `streambus capacity`: the deployment guide's capacity planning (storage, bandwidth, brokers and their
 * hardware) for a given load, with the formula behind every number (capacity/capacity-plan.ts). The load
 * comes from flags, or is measured on running brokers (--from-metrics: two scrapes of /metrics).
 * Sizes print in decimal units (1 KB = 1000 bytes, as the guide computes) or binary ones (--binary);
 * --json prints exact bytes and bits.
 */
import type { Argv } from 'yargs';
import { planCapacity, capacityInputProblem, type CapacityInput, type CapacityPlan } from '../../capacity/capacity-plan.ts';
import { loadBetween, readTotals, type MeasuredLoad } from '../../capacity/metrics-rates.ts';
import { CommandError, UsageError, failWith, out, printJson } from '../client-command.ts';
import { baseUrl, httpCall } from '../http-request.ts';

interface CapacityArgs {
  messagesPerSec?: number;
  messagesPerDay?: number;
  peakMessagesPerSec?: number;
  messageSize?: string;
  retentionDays: number;
  replicationFactor: number;
  partitions?: number;
  availability: number;
  latencyP99Ms?: number;
  fromMetrics?: string[];
  sampleSeconds: number;
  binary: boolean;
  json: boolean;
}

const DECIMAL: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };
const BINARY: Record<string, number> = { ...DECIMAL, k: 2 ** 10, kb: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gb: 2 ** 30 };

/** "1KB", "512B", "1.5 KiB", "1000": bytes. KB is 1000 bytes, or 1024 with --binary; KiB is always 1024. */
export function parseMessageSize(text: string, binary: boolean): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$/i.exec(text);
  const unit = (m?.[2] ?? '').toLowerCase();
  const factor = (binary ? BINARY : DECIMAL)[unit];
  if (m === null || factor === undefined) throw new UsageError(`--message-size takes a size such as 1KB, 512B or 2KiB, got ${JSON.stringify(text)}`);
  const bytes = Number(m[1]) * factor;
  if (!(bytes > 0)) throw new UsageError(`--message-size must be above 0, got ${JSON.stringify(text)}`);
  return bytes;
}

/** A byte count in decimal (KB, MB, ...) or binary (KiB, MiB, ...) units, 3 significant digits. */
export function formatAmount(value: number, binary: boolean, unit = 'B'): string {
  const base = binary ? 1024 : 1000;
  const names = binary ? ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] : ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= base && i < names.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(3))} ${names[i]}${unit}`;
}

async function scrape(urls: readonly string[]): Promise<ReturnType<typeof readTotals>[]> {
  return Promise.all(
    urls.map(async (address) => {
      const url = /\/metrics$/.test(address) ? baseUrl(address, undefined) : `${baseUrl(address, undefined)}/metrics`;
      let answer;
      try {
        answer = await httpCall(url, 'GET', undefined, 10_000);
      } catch (err) {
        throw new CommandError(`cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (answer.status !== 200) throw new CommandError(`${url} answered ${answer.status}`);
      try {
        return readTotals(answer.body, url);
      } catch (err) {
        throw new CommandError((err as Error).message);
      }
    }),
  );
}

async function measure(urls: readonly string[], seconds: number): Promise<MeasuredLoad> {
  const before = await scrape(urls);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = await scrape(urls);
  try {
    return loadBetween(before, after, (performance.now() - started) / 1000);
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
}

function render(plan: CapacityPlan, binary: boolean, measured: MeasuredLoad | null): string {
  const size = (v: number) => formatAmount(v, binary);
  const bits = (v: number) => formatAmount(v, false, 'bit/s');
  const i = plan.input;
  const lines: string[] = [];
  if (measured !== null) {
    lines.push(`measured over ${measured.sampledSeconds.toFixed(1)} s: ${Number(measured.messagesPerSec.toPrecision(4))} msg/s, ${Number(measured.messageSizeBytes.toPrecision(4))} B per message (stored)`);
  }
  lines.push(
    `load         ${i.messagesPerSec.toLocaleString('en-US')} msg/s average, ${i.peakMessagesPerSec.toLocaleString('en-US')} peak, ${size(i.messageSizeBytes)} per message, ` +
      `${i.retentionDays} days retention, replication factor ${i.replicationFactor}, availability ${i.availabilityPercent}%` +
      (i.latencyP99Ms === null ? '' : `, p99 target ${i.latencyP99Ms} ms`),
    '',
    `daily volume                 ${plan.dailyMessages.toLocaleString('en-US')} messages`,
    `daily storage                ${size(plan.dailyBytes)}`,
    `retained (one copy)          ${size(plan.retainedBytes)}`,
    `cluster storage              ${size(plan.clusterBytes)}`,
    `cluster storage with buffer  ${size(plan.clusterBytesWithBuffer)}  (whole cluster)`,
    `storage per broker           ${size(plan.perBrokerBytes)}`,
    `bandwidth                    ${formatAmount(plan.bandwidthBytesPerSec, binary, 'B/s')} = ${bits(plan.bandwidthBitsPerSec)}`,
    `bandwidth with overhead      ${bits(plan.bandwidthWithOverheadBitsPerSec)} (cluster), ${bits(plan.perBrokerBandwidthWithOverheadBitsPerSec)} per broker`,
    `brokers                      ${plan.brokers} (${plan.topology} cluster${plan.availabilityZones > 1 ? `, across ${plan.availabilityZones} availability zones` : ''})`,
    `each broker                  ${plan.hardware.cores} cores, ${formatAmount(plan.hardware.memoryBytes, false)} RAM, ${plan.hardware.storage} of at least ${size(Math.max(plan.perBrokerBytes, plan.hardware.diskBytes ?? 0))}, ${bits(plan.hardware.networkBitsPerSec)} network`,
  );
  if (plan.replicasPerBroker !== null) lines.push(`partitions per broker        ${plan.replicasPerBroker} replicas, ${plan.leadersPerBroker} leaders`);
  lines.push('', 'how:');
  for (const s of plan.steps) lines.push(`  ${s.name}: ${s.formula}`);
  if (plan.notes.length > 0) {
    lines.push('', 'notes:');
    for (const n of plan.notes) lines.push(`  - ${n}`);
  }
  return lines.join('\n') + '\n';
}

export function capacityCommand(y: Argv): Argv {
  return y.command(
    'capacity',
    "Plan storage, bandwidth and brokers for a load, with the deployment guide's formulas",
    (c) =>
      c
        .option('messages-per-sec', { type: 'number', describe: 'Average messages per second' })
        .option('messages-per-day', { type: 'number', describe: 'Messages per day (instead of --messages-per-sec)' })
        .option('peak-messages-per-sec', { type: 'number', describe: 'Peak messages per second (default: the average)' })
        .option('message-size', { type: 'string', describe: 'Average message size: 1KB, 512B, 2KiB (KB = 1000 bytes unless --binary)' })
        .option('retention-days', { type: 'number', default: 7, describe: 'Days kept' })
        .option('replication-factor', { type: 'number', default: 3, describe: 'Copies of each partition' })
        .option('partitions', { type: 'number', describe: 'Partitions in total (replicas and leaders per broker)' })
        .option('availability', { type: 'number', default: 99.9, describe: 'Availability target in percent (99.99 and above: 5 brokers in 3 zones)' })
        .option('latency-p99-ms', { type: 'number', describe: 'Produce latency target, p99 in ms (10 or less: NVMe)' })
        .option('from-metrics', { type: 'string', array: true, describe: "Measure rate and size from running brokers' /metrics (host:port or URL of each broker's HTTP port)" })
        .option('sample-seconds', { type: 'number', default: 10, describe: 'With --from-metrics: seconds between the two scrapes' })
        .option('binary', { type: 'boolean', default: false, describe: 'Binary units (KiB, MiB, ...); KB in --message-size means 1024 bytes' })
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON (exact bytes and bits)' })
        .example('$0 capacity --messages-per-sec 10000 --message-size 1KB --retention-days 7 --replication-factor 3', 'the guide\'s example: 18 TB, 27 TB with buffer, 480 Mbps')
        .example('$0 capacity --from-metrics 10.0.0.1:8081 10.0.0.2:8081 10.0.0.3:8081 --retention-days 7', 'the load the brokers carry now'),
    async (argv) => {
      const args = argv as unknown as CapacityArgs;
      try {
        if (args.messagesPerSec !== undefined && args.messagesPerDay !== undefined) throw new UsageError('give --messages-per-sec or --messages-per-day, not both');
        if (!(args.sampleSeconds > 0 && args.sampleSeconds <= 3600)) throw new UsageError('--sample-seconds must be between 0 and 3600');
        let measured: MeasuredLoad | null = null;
        if (args.fromMetrics !== undefined && args.fromMetrics.length > 0) measured = await measure(args.fromMetrics, args.sampleSeconds);
        const rate = args.messagesPerSec ?? (args.messagesPerDay === undefined ? measured?.messagesPerSec : args.messagesPerDay / 86_400);
        const sizeBytes = args.messageSize !== undefined ? parseMessageSize(args.messageSize, args.binary) : measured?.messageSizeBytes;
        if (rate === undefined) throw new UsageError('give --messages-per-sec (or --messages-per-day), or --from-metrics');
        if (sizeBytes === undefined) throw new UsageError('give --message-size, or --from-metrics');
        const input: CapacityInput = {
          messagesPerSec: rate,
          messageSizeBytes: sizeBytes,
          retentionDays: args.retentionDays,
          replicationFactor: args.replicationFactor,
          availabilityPercent: args.availability,
          ...(args.peakMessagesPerSec === undefined ? {} : { peakMessagesPerSec: args.peakMessagesPerSec }),
          ...(args.partitions === undefined ? {} : { partitions: args.partitions }),
          ...(args.latencyP99Ms === undefined ? {} : { latencyP99Ms: args.latencyP99Ms }),
        };
        const problem = capacityInputProblem(input);
        if (problem !== null) throw new UsageError(problem);
        const plan = planCapacity(input);
        if (args.json) {
          const { steps, ...rest } = plan;
          await printJson({ ...rest, ...(measured === null ? {} : { measured }), steps });
        } else {
          await out(render(plan, args.binary, measured));
        }
      } catch (err) {
        await failWith(err);
      }
    },
  );
}
