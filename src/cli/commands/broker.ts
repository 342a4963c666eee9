/**
 * `streambus broker`: runs a broker in this process until SIGTERM or SIGINT; its subcommands
 * (decommission, recommission, list, describe) administer a cluster's brokers (broker-admin.ts).
 */
import type { Argv } from 'yargs';
import type { CliServices } from '../services.ts';
import { configFromArgv, withConfigOptions } from './config-loading.ts';
import { brokerAdminCommands } from './broker-admin.ts';

export function brokerCommand(y: Argv, services: CliServices): Argv {
  return y.command(
    'broker',
    'Run a broker (from --config FILE, or the embedded defaults: 127.0.0.1:9092, HTTP 8081, ./data)',
    (b) => brokerAdminCommands(withConfigOptions(b)),
    async (argv) => {
      const config = configFromArgv(argv as Record<string, unknown>);
      process.exitCode = await services.runBroker(config);
    },
  );
}
