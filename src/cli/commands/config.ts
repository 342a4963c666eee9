/** `streambus config validate|print`: check a broker.yaml, or show the effective configuration. */
import type { Argv } from 'yargs';
import { printConfig, validateFiles } from '../../config/index.ts';
import type { CliServices } from '../services.ts';
import { configFromArgv, withConfigOptions } from './config-loading.ts';
import { EXIT_USAGE_CODE } from './exit-codes.ts';
import { securityProblems } from '../security-checks.ts';

export function configCommand(y: Argv, _services: CliServices): Argv {
  return y.command('config', 'Validate or print broker configuration', (c) =>
    c
      .command(
        'validate',
        'Check schema and values (exit 2 on any problem)',
        (v) => withConfigOptions(v).option('check-files', { type: 'boolean', default: false, describe: 'Also check that referenced files and directories exist' }),
        (argv) => {
          const config = configFromArgv(argv as Record<string, unknown>);
          const files = argv['check-files'] === true;
          const problems = [...(files ? validateFiles(config) : []), ...securityProblems(config, { files })];
          if (problems.length > 0) {
            for (const p of problems) process.stderr.write(`${p.message}\n`);
            process.exit(EXIT_USAGE_CODE);
          }
          process.stdout.write(`${argv.config ?? 'embedded default configuration'}: OK\n`);
        },
      )
      .command(
        'print',
        'Show the effective configuration (defaults, file, environment and flags merged), secrets masked',
        (p) => withConfigOptions(p).option('format', { choices: ['yaml', 'json'] as const, default: 'yaml' as const }),
        (argv) => {
          const config = configFromArgv(argv as Record<string, unknown>);
          process.stdout.write(printConfig(config, { format: argv.format }));
        },
      )
      .demandCommand(1, 'Name a config command: validate or print.'),
  );
}
