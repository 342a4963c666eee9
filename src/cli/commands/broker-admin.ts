/**
 * `streambus broker decommission|recommission|list|describe`: the cluster's brokers through the admin
 * API on a broker's HTTP port (app/cluster-admin.ts, docs/admin-api.md). Decommission marks the broker draining; the
 * controller then moves its replicas to other brokers a few partitions at a time. By default the
 * command waits, printing progress, until the broker holds nothing (exit 0) or --timeout passes
 * (exit 1); --no-wait returns once the controller accepted it.
 * The broker is the one --http names; without it, the one the broker configuration describes (--config,
 * or the guide's /etc/streambus/broker.yaml when it exists), reached as that configuration serves it
 * (HTTPS with its CA, its certificate as the client's: broker-http-target.ts); else 127.0.0.1:8081.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Argv } from 'yargs';
import { CommandError, UsageError, failWith, out, printJson } from '../client-command.ts';
import { formatTable } from '../format.ts';
import { baseUrl, httpCall, type HttpAnswer } from '../http-request.ts';
import { TLS_OPTIONS, tlsFromArgs, type TlsArgs } from '../tls-options.ts';
import { SASL_OPTIONS, saslFromArgs, type SaslArgs } from '../sasl-options.ts';
import type { BrokerStatus } from '../../admin/broker-status.ts';
import { GUIDE_CONFIG_PATH, adminConfigPath, httpTlsFromConfig, localHttpAddress, withTlsFlags } from '../broker-http-target.ts';
import { configFromArgv } from './config-loading.ts';

/** Where the admin commands look for a broker told nothing else. */
const DEFAULT_HTTP_ADDRESS = '127.0.0.1:8081';

export interface AdminArgs extends TlsArgs, SaslArgs {
  http?: string;
  /** The broker configuration (the `broker` command's --config, with its flag overrides). */
  config?: string;
  json: boolean;
  requestTimeoutMs: number;
}

function withAdminOptions<T>(y: Argv<T>): Argv<T & AdminArgs> {
  return y
    .option('http', { type: 'string', describe: `Any broker's HTTP address (host:port or URL); default: the one --config (or ${GUIDE_CONFIG_PATH} when present) gives, else ${DEFAULT_HTTP_ADDRESS}` })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON for scripts instead of tables' })
    .option('request-timeout-ms', { type: 'number', default: 30_000, describe: 'Timeout of each request in milliseconds' })
    .option(TLS_OPTIONS)
    .option(SASL_OPTIONS) as unknown as Argv<T & AdminArgs>;
}

/** One admin API request; its JSON answer, or a CommandError saying why not. */
export async function call<T>(args: AdminArgs, method: 'GET' | 'PUT', path: string): Promise<T> {
  let target: { address: string; tls: ConnectionOptions | undefined };
  let sasl: ReturnType<typeof saslFromArgs>;
  try {
    target = adminTarget(args);
    sasl = saslFromArgs(args);
  } catch (err) {
    throw err instanceof UsageError ? err : new UsageError((err as Error).message);
  }
  const { tls } = target;
  const base = baseUrl(target.address, tls);
  // With SASL options the admin API is asked as that user (HTTP Basic; the broker checks the password
  // as it would on the Kafka port). Over plain HTTP the password travels in the clear, as with PLAIN.
  const headers: Record<string, string> = sasl === undefined ? {} : { authorization: `Basic ${Buffer.from(`${sasl.username}:${sasl.password}`).toString('base64')}` };
  let res: HttpAnswer;
  try {
    res = await httpCall(`${base}${path}`, method, tls, args.requestTimeoutMs, headers);
  } catch (err) {
    throw new CommandError(`cannot reach ${base}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = res.body;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CommandError(`${method} ${base}${path} answered ${res.status} with something other than JSON: ${text.slice(0, 200)}`);
  }
  if (res.status !== 200) {
    const { error, code, message } = body as { error?: string; code?: string; message?: string };
    const name = [error, code].filter((x) => x !== undefined).join(', ');
    throw new CommandError(`${message ?? text.trim()}${name === '' ? '' : ` [${name}]`}`);
  }
  return body as T;
}

/**
 * The broker an admin request goes to and its TLS: --http with the TLS flags; else the broker
 * configuration's HTTP address and TLS, the TLS flags laid over it; else 127.0.0.1:8081.
 */
function adminTarget(args: AdminArgs): { address: string; tls: ConnectionOptions | undefined } {
  const flagged = tlsFromArgs(args);
  if (args.http !== undefined) return { address: args.http, tls: flagged };
  const path = adminConfigPath(args.config);
  if (path === undefined) return { address: DEFAULT_HTTP_ADDRESS, tls: flagged };
  const config = configFromArgv({ ...(args as unknown as Record<string, unknown>), config: path });
  return { address: localHttpAddress(config), tls: withTlsFlags(httpTlsFromConfig(config, { clientCertificate: true }), flagged) };
}

function table(brokers: readonly BrokerStatus[]): string {
  return formatTable(
    ['ID', 'HOST', 'PORT', 'RACK', 'STATE', 'REACHABLE', 'REPLICAS', 'LEADERS', 'MOVING', 'CONTROLLER'],
    brokers.map((b) => [
      String(b.id),
      b.host,
      String(b.port),
      b.rack ?? '-',
      b.drainReason === 'unreachable' ? `${b.state} (unreachable)` : b.state,
      b.reachable ? 'yes' : 'no',
      String(b.replicas),
      String(b.leaders),
      String(b.moving),
      b.controllerVoter === true ? 'voter' : '-',
    ]),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    await failWith(err);
  }
}

function brokerId(value: unknown): number {
  const id = Number(value);
  if (value === undefined || !Number.isInteger(id) || id < 0) throw new UsageError(`--id must be a broker id (an integer >= 0), got ${String(value)}`);
  return id;
}

export function brokerAdminCommands<T>(b: Argv<T>): Argv<T> {
  return b
    .command(
      'decommission',
      'Move every replica off a broker (the guide: streambus-cli broker decommission --id=5), then report it drained',
      (c) =>
        withAdminOptions(c)
          .option('id', { type: 'number', demandOption: true, describe: 'The broker to decommission' })
          .option('wait', { type: 'boolean', default: true, describe: 'Wait until it holds no replicas (--no-wait returns at once)' })
          .option('timeout', { type: 'number', default: 3_600, describe: 'Seconds to wait at most' })
          .example('$0 broker decommission --id 5 --http 10.0.0.5:8081', '')
          .example('$0 broker decommission --id 5 --config /etc/streambus/broker.yaml', 'through the broker this configuration describes'),
      (argv) =>
        run(async () => {
          const id = brokerId(argv.id);
          if (!(argv.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
          let status = await call<BrokerStatus>(argv, 'PUT', `/api/v1/brokers/${id}/decommission`);
          if (!argv.wait) {
            await (argv.json ? printJson(status) : out(`broker ${id}: ${status.state}, ${status.replicas} replica(s) to move\n`));
            return;
          }
          const deadline = Date.now() + argv.timeout * 1000;
          let last = '';
          while (status.state !== 'drained') {
            if (Date.now() > deadline) {
              const what = status.replicas > 0 || status.controllerVoter !== true ? `still holds ${status.replicas} replica(s)` : 'is still one of the controller\'s voters (the controller leader\'s log says why)';
              throw new CommandError(`broker ${id} ${what} after ${argv.timeout} s; it keeps draining (check again with 'streambus broker describe --id ${id}')`);
            }
            const voter = status.replicas === 0 && status.controllerVoter === true ? ', leaving the controller voters' : '';
            const line = `broker ${id}: ${status.replicas} replica(s) left, ${status.moving} moving, leads ${status.leaders}${voter}`;
            if (!argv.json && line !== last) process.stderr.write(`${line}\n`);
            last = line;
            await sleep(1_000);
            status = await call<BrokerStatus>(argv, 'GET', `/api/v1/brokers/${id}`);
          }
          await (argv.json ? printJson(status) : out(`broker ${id}: drained (holds no replicas, votes in no controller election); it may be stopped\n`));
        }),
    )
    .command(
      'recommission',
      'Stop decommissioning a broker: it takes replicas again',
      (c) => withAdminOptions(c).option('id', { type: 'number', demandOption: true, describe: 'The broker to recommission' }),
      (argv) =>
        run(async () => {
          const status = await call<BrokerStatus>(argv, 'PUT', `/api/v1/brokers/${brokerId(argv.id)}/recommission`);
          await (argv.json ? printJson(status) : out(`broker ${status.id}: ${status.state}\n`));
        }),
    )
    .command(
      'list',
      "The cluster's brokers: state, replicas, leaders and moves",
      (c) => withAdminOptions(c),
      (argv) =>
        run(async () => {
          const brokers = await call<BrokerStatus[]>(argv, 'GET', '/api/v1/brokers');
          await (argv.json ? printJson(brokers) : out(table(brokers)));
        }),
    )
    .command(
      'describe',
      'One broker: state, replicas, leaders and moves',
      (c) => withAdminOptions(c).option('id', { type: 'number', demandOption: true, describe: 'The broker' }),
      (argv) =>
        run(async () => {
          const broker = await call<BrokerStatus>(argv, 'GET', `/api/v1/brokers/${brokerId(argv.id)}`);
          await (argv.json ? printJson(broker) : out(table([broker])));
        }),
    );
}
