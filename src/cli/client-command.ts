/**
 * What every client command shares: the --bootstrap-server, --json, --client-id and --request-timeout-ms options,
 * and a runner that opens a KafkaClient, runs the command, closes the client, and turns failures into
 * one line on stderr and an exit code (2 for usage mistakes, 1 for everything else), never a stack
 * trace for an expected failure.
 */
import { TLS_OPTIONS, tlsFromArgs, type TlsArgs } from './tls-options.ts';
import { SASL_OPTIONS, saslFromArgs, type SaslArgs } from './sasl-options.ts';
import type { Argv } from 'yargs';
import { KafkaClient } from '../client/index.ts';
import { isStreamBusError } from '../util/errors.ts';
import { bigintAsNumber } from '../util/json.ts';
import { AdminError } from '../admin/admin-error.ts';
import { EXIT_FAILURE, EXIT_USAGE_CODE } from './commands/exit-codes.ts';

export interface ClientArgs extends TlsArgs, SaslArgs {
  bootstrapServer: string;
  json: boolean;
  clientId: string;
  requestTimeoutMs: number;
}

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

/** A failure the command explains itself, with a message meant for people (exit code 1). */
export class CommandError extends Error {}

export function withClientOptions<T>(y: Argv<T>): Argv<T & ClientArgs> {
  return y
    .option('bootstrap-server', { alias: 'b', type: 'string', default: '127.0.0.1:9092', describe: 'Broker address(es), host:port[,host:port...]' })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON for scripts instead of tables' })
    .option('client-id', { type: 'string', default: 'streambus-cli', describe: 'Client id sent to the broker' })
    .option('request-timeout-ms', { type: 'number', default: 30_000, describe: 'Timeout of each request in milliseconds' })
    .option(TLS_OPTIONS)
    .option(SASL_OPTIONS) as unknown as Argv<T & ClientArgs>;
}

/** Writes to stdout and waits for the stream to take it (so large outputs keep their order and memory bounded). */
export async function out(text: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

export function printJson(value: unknown): Promise<void> {
  return out(JSON.stringify(value, bigintAsNumber, 2) + '\n');
}

function exitNow(code: number): never {
  process.exit(code);
}

/** Prints the error the way an operator wants to read it and exits with its code. */
export async function failWith(err: unknown): Promise<never> {
  let code = EXIT_FAILURE;
  let message: string;
  if (err instanceof UsageError) {
    code = EXIT_USAGE_CODE;
    message = `${err.message}\nRun 'streambus <command> --help' for usage.`;
  } else if (err instanceof CommandError || err instanceof AdminError) {
    message = err.message;
  } else if (isStreamBusError(err)) {
    message = `${err.message} [${err.code}]`;
  } else {
    message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  }
  process.stderr.write(`streambus: ${message}\n`);
  // Let stdout drain what is already written, then leave even if stdin or sockets are still open.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  exitNow(code);
}

/** A reader that went away (`consume ... | head`) is a normal end of the output, not an error. */
function exitQuietlyOnClosedStdout(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exitNow(0);
    throw err;
  });
}

/** Opens a client for `args`, runs `body`, closes the client; failures exit via failWith. */
export async function runWithClient<A extends ClientArgs>(args: A, body: (client: KafkaClient) => Promise<void>): Promise<void> {
  exitQuietlyOnClosedStdout();
  if (!Number.isFinite(args.requestTimeoutMs) || args.requestTimeoutMs <= 0) await failWith(new UsageError('--request-timeout-ms must be a positive number'));
  let tls: ReturnType<typeof tlsFromArgs>;
  let sasl: ReturnType<typeof saslFromArgs>;
  try {
    tls = tlsFromArgs(args);
    sasl = saslFromArgs(args);
  } catch (err) {
    return failWith(new UsageError((err as Error).message));
  }
  let client: KafkaClient | null = null;
  try {
    client = new KafkaClient({
      bootstrap: args.bootstrapServer,
      clientId: args.clientId,
      requestTimeoutMs: args.requestTimeoutMs,
      connectTimeoutMs: Math.min(args.requestTimeoutMs, 10_000),
      ...(tls === undefined ? {} : { tls }),
      ...(sasl === undefined ? {} : { sasl }),
    });
    await body(client);
  } catch (err) {
    client?.close();
    await failWith(err);
  }
  client?.close();
}

/** Parses repeated `key=value` options; a value-less `key` is a usage error unless `allowBare`. */
export function parsePairs(option: string, items: readonly string[] | undefined, allowBare = false): [string, string | null][] {
  return (items ?? []).map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      if (allowBare && eq < 0 && item.length > 0) return [item, null];
      throw new UsageError(`${option} expects key=value, got "${item}"`);
    }
    return [item.slice(0, eq), item.slice(eq + 1)];
  });
}

/** A non-negative integer option, or a usage error. */
export function integerOption(option: string, value: number | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${option} must be an integer >= ${min}, got ${value}`);
  return value;
}
