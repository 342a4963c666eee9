/**
 * `streambus health`: asks a broker's HTTP listener whether it is live (`health.livenessPath`) or, with
 * --ready, ready (`health.readinessPath`); exits 0 on a 200 answer and 1 on anything else or no answer
 * within --timeout-ms. Without --http the address and paths come from the broker's own configuration
 * (--config, STREAMBUS_* variables, flags), so a container HEALTHCHECK or an exec probe needs nothing
 * but the binary and the broker's settings: no curl in the image, no port written twice.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Argv } from 'yargs';
import { CommandError, UsageError, failWith, out } from '../client-command.ts';
import { baseUrl, httpCall } from '../http-request.ts';
import { TLS_OPTIONS, tlsFromArgs, type TlsArgs } from '../tls-options.ts';
import { configFromArgv, withConfigOptions } from './config-loading.ts';
import { httpTlsFromConfig, localHttpAddress, withTlsFlags } from '../broker-http-target.ts';

interface HealthArgs extends TlsArgs {
  ready: boolean;
  http?: string;
  timeoutMs: number;
}

export function healthCommand(y: Argv): Argv {
  return y.command(
    'health',
    "Ask a broker's HTTP port /health/live (or --ready: /health/ready); exit 0 when it answers 200",
    (h) =>
      withConfigOptions(h)
        .option('ready', { type: 'boolean', default: false, describe: 'Check readiness (health.readinessPath) instead of liveness' })
        .option('http', { type: 'string', describe: 'HTTP address (host:port or URL) instead of the one the configuration gives' })
        .option('timeout-ms', { type: 'number', default: 5_000, describe: 'Give up after this many milliseconds' })
        .option(TLS_OPTIONS)
        .example('$0 health --config /etc/streambus/broker.yaml', 'liveness of the broker this configuration describes')
        .example('$0 health --ready --http 10.0.1.5:8081', 'readiness of another broker'),
    async (argv) => {
      const args = argv as unknown as HealthArgs & Record<string, unknown>;
      try {
        if (!(args.timeoutMs > 0)) throw new UsageError(`--timeout-ms must be a positive number, got ${String(args.timeoutMs)}`);
        const config = configFromArgv(args);
        let tls: ConnectionOptions | undefined;
        try {
          // Another broker (--http) is checked with the flags alone when given: this configuration's
          // name check is for this broker's certificate.
          const flagged = tlsFromArgs(args);
          const fromConfig = httpTlsFromConfig(config, { clientCertificate: false });
          tls = args.http === undefined ? withTlsFlags(fromConfig, flagged) : (flagged ?? fromConfig);
        } catch (err) {
          throw err instanceof UsageError ? err : new UsageError((err as Error).message);
        }
        const path = args.ready ? config.health.readinessPath : config.health.livenessPath;
        const url = `${baseUrl(args.http ?? localHttpAddress(config), tls)}${path}`;
        let answer;
        try {
          answer = await httpCall(url, 'GET', tls, args.timeoutMs);
        } catch (err) {
          throw new CommandError(`${url}: no answer (${(err as Error).message})`);
        }
        const body = answer.body.trim().slice(0, 500);
        if (answer.status !== 200) throw new CommandError(`${url}: ${answer.status} ${body}`);
        await out(`${url}: 200 ${body}\n`);
      } catch (err) {
        await failWith(err);
      }
    },
  );
}
