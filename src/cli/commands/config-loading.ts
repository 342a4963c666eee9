/** Shared by every command that reads a broker config: --config plus the common flag overrides. */
import type { Argv } from 'yargs';
import { CLI_FLAGS, ConfigError, flagOverrides, loadConfig, type BrokerConfig } from '../../config/index.ts';
import { EXIT_USAGE_CODE } from './exit-codes.ts';

export function withConfigOptions<T>(y: Argv<T>): Argv<T> {
  let out = y.option('config', {
    alias: 'c',
    type: 'string',
    describe: 'Path to broker.yaml (default: the embedded configuration)',
  }) as unknown as Argv<T>;
  for (const flag of CLI_FLAGS) {
    out = out.option(flag.flag, { type: 'string', describe: `${flag.description} (${flag.key})` }) as unknown as Argv<T>;
  }
  return out;
}

/** Loads the config named by argv, or prints the problems and exits with code 2. */
export function configFromArgv(argv: Record<string, unknown>): BrokerConfig {
  const overrides = flagOverrides(argv);
  try {
    return loadConfig({ file: argv.config as string | undefined, env: process.env, overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_USAGE_CODE);
    }
    throw err;
  }
}
