/**
 * `streambus user create|list|delete`: SCRAM users (security.authentication method scram-sha-256,
 * scram-sha-512 or plain), through Kafka's AlterUserScramCredentials and DescribeUserScramCredentials.
 * The password is read from --password-file or STREAMBUS_USER_PASSWORD (never an argument) and salted
 * here; the broker stores only what SCRAM's server side needs. Creating an existing user's credential
 * sets a new password. With authorization on, the caller needs ALTER (DESCRIBE to list) on the cluster.
 */
import { readSecret } from '../secret-input.ts';
import type { Argv } from 'yargs';
import { MAX_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS } from '../../metadata/scram-credentials.ts';
import type { ScramHashName } from '../../protocol/sasl/scram-math.ts';
import { CommandError, integerOption, out, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';
import type { CliServices } from '../services.ts';

const MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;
const mechanismsOf = (names: readonly string[] | undefined): ScramHashName[] => (names === undefined || names.length === 0 ? [...MECHANISMS] : names).map((n) => {
  const lower = n.toLowerCase();
  if (!(MECHANISMS as readonly string[]).includes(lower)) throw new UsageError(`--mechanism ${n}: expected scram-sha-256 or scram-sha-512`);
  return lower.toUpperCase() as ScramHashName;
});

function password(file: string | undefined): string {
  try {
    return readSecret('password', '--password-file', file, 'STREAMBUS_USER_PASSWORD');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function userCommand(y: Argv, _services: CliServices): Argv {
  return y.command('user', 'Create, list and delete SCRAM users (passwords stored salted in the cluster metadata)', (u) =>
    withClientOptions(u)
      .command(
        'create <name>',
        "Create a user or set a user's password",
        (c) =>
          c
            .positional('name', { type: 'string', demandOption: true })
            .option('password-file', { type: 'string', describe: 'File holding the password (or set STREAMBUS_USER_PASSWORD)' })
            .option('mechanism', { type: 'string', array: true, describe: 'scram-sha-256 and/or scram-sha-512 (default: both)' })
            .option('iterations', { type: 'number', default: 4096, describe: `PBKDF2 iterations, ${MIN_SCRAM_ITERATIONS} to ${MAX_SCRAM_ITERATIONS}` })
            .example('STREAMBUS_USER_PASSWORD=... $0 user create alice --mechanism scram-sha-512', ''),
        (argv) =>
          runWithClient(argv, async (client) => {
            const mechanisms = mechanismsOf(argv.mechanism);
            const iterations = integerOption('--iterations', argv.iterations)!;
            const secret = password(argv['password-file']);
            for (const mechanism of mechanisms) {
              const { error } = await client.upsertScramUser(argv.name, mechanism, secret, iterations);
              if (error) throw error;
            }
            if (argv.json) await printJson({ user: argv.name, mechanisms, iterations });
            else await out(`user ${argv.name}: ${mechanisms.join(', ')} credential(s) stored\n`);
          }),
      )
      .command(
        'list [names..]',
        'List users with their SCRAM mechanisms and iterations',
        (c) => c.positional('names', { type: 'string', array: true }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const users = await client.describeScramUsers(argv.names ?? []);
            const failed = users.find((x) => x.error !== null);
            if (failed?.error?.kafkaName === 'RESOURCE_NOT_FOUND') throw new CommandError(`user ${failed.user} has no SCRAM credentials`);
            if (failed) throw failed.error;
            if (argv.json) await printJson(users.map(({ user, credentials }) => ({ user, credentials })));
            else await out(formatTable(['USER', 'MECHANISM', 'ITERATIONS'], users.flatMap((x) => x.credentials.map((c) => [x.user, c.mechanism, String(c.iterations)]))));
          }),
      )
      .command(
        'delete <name>',
        "Delete a user's SCRAM credentials (all mechanisms, or those given)",
        (c) => c.positional('name', { type: 'string', demandOption: true }).option('mechanism', { type: 'string', array: true, describe: 'scram-sha-256 and/or scram-sha-512 (default: every one the user has)' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const [found] = await client.describeScramUsers([argv.name]);
            if (found?.error?.kafkaName === 'RESOURCE_NOT_FOUND') throw new CommandError(`user ${argv.name} has no SCRAM credentials`);
            if (found?.error) throw found.error;
            const has = (found?.credentials ?? []).map((c) => c.mechanism as ScramHashName);
            const mechanisms = argv.mechanism === undefined ? has : mechanismsOf(argv.mechanism).filter((m) => has.includes(m));
            for (const mechanism of mechanisms) {
              const { error } = await client.deleteScramUser(argv.name, mechanism);
              if (error) throw error;
            }
            if (argv.json) await printJson({ user: argv.name, deleted: mechanisms });
            else await out(`user ${argv.name}: ${mechanisms.length === 0 ? 'nothing to delete' : `${mechanisms.join(', ')} credential(s) deleted`}\n`);
          }),
      )
      .demandCommand(1, 'name a subcommand: create, list or delete'),
  );
}
