/**
 * The `streambus` command line (yargs). Commands that need the composition root (running a broker,
 * probing the native addon) receive it as `CliServices`, so the CLI stays free of real I/O wiring.
 */
import yargs, { type Argv } from 'yargs';
import { VERSION } from '../util/version.ts';
import { brokerCommand } from './commands/broker.ts';
import { configCommand } from './commands/config.ts';
import { doctorCommand } from './commands/doctor.ts';
import { topicCommand } from './commands/topic.ts';
import { produceCommand } from './commands/produce.ts';
import { consumeCommand } from './commands/consume.ts';
import { groupCommand } from './commands/group.ts';
import { clusterCommand } from './commands/cluster.ts';
import { aclCommand } from './commands/acl.ts';
import { userCommand } from './commands/user.ts';
import { capacityCommand } from './commands/capacity.ts';
import { quotaCommand } from './commands/quota.ts';
import { transactionCommand } from './commands/transaction.ts';
import { backupCommand, restoreCommand } from './commands/backup.ts';
import { tenantCommand } from './commands/tenant.ts';
import { healthCommand } from './commands/health.ts';
import type { CliServices } from './services.ts';

export type { CliServices } from './services.ts';

/** Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration. */
export { EXIT_USAGE_CODE as EXIT_USAGE } from './commands/exit-codes.ts';

export async function runCli(args: string[], services: CliServices, scriptName = 'streambus'): Promise<void> {
  let parser: Argv = yargs(args)
    .scriptName(scriptName)
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .version(VERSION)
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, err, y) => {
      if (err) throw err;
      process.stderr.write(`${y.help() ? '' : ''}${message}\nRun '${scriptName} --help' for usage.\n`);
      process.exit(2);
    });
  parser = brokerCommand(parser, services);
  parser = configCommand(parser, services);
  parser = doctorCommand(parser, services);
  parser = topicCommand(parser, services);
  parser = produceCommand(parser, services);
  parser = consumeCommand(parser, services);
  parser = groupCommand(parser, services);
  parser = clusterCommand(parser, services);
  parser = aclCommand(parser, services);
  parser = userCommand(parser, services);
  parser = capacityCommand(parser);
  parser = quotaCommand(parser);
  parser = transactionCommand(parser);
  parser = backupCommand(parser, services);
  parser = restoreCommand(parser, services);
  parser = tenantCommand(parser);
  parser = healthCommand(parser);
  parser = parser.command('version', 'Print the StreamBus version', {}, () => {
    process.stdout.write(`streambus ${VERSION}\n`);
  });
  await parser.parseAsync();
}
