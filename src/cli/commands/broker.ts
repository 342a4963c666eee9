/**
 * `streambus broker`: runs a broker in this process until SIGTERM or SIGINT; its subcommands
 * (decommission, recommission, list, describe) administer a cluster's brokers (broker-admin.ts).
 */
import type { Argv } from 'yargs';
import type { CliServices } from '../services.ts';
import { configFromArgv, withConfigOptions } from './config-loading.ts';
import { brokerAdminCommands } from './broker-admin.ts';
import { securityProblems } from '../security-checks.ts';
import { EXIT_USAGE_CODE } from './exit-codes.ts';

export function brokerCommand(y: Argv, services: CliServices): Argv {
  return y.command(
    'broker',
    'Run a broker (from --config FILE, or the embedded defaults: 127.0.0.1:9092, HTTP 8081, ./data)',
    (b) => brokerAdminCommands(withConfigOptions(b)),
    async (argv) => {
      const config = configFromArgv(argv as Record<string, unknown>);
      // Fail closed: TLS asked for with files that do not pass their checks never starts a broker.
      const problems = securityProblems(config, { files: true });
      if (problems.length > 0) {
        process.stderr.write(`${problems.map((p) => p.message).join('\n')}\n`);
        process.exit(EXIT_USAGE_CODE);
      }
      process.exitCode = await services.runBroker(config);
    },
  );
}
