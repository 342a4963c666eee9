/**
 * SASL for the CLI's Kafka connections: --sasl-mechanism (plain, scram-sha-256, scram-sha-512),
 * --sasl-username, and the password from --sasl-password-file or the STREAMBUS_SASL_PASSWORD
 * environment variable (never a command-line argument, which other users of the machine can read).
 */
import { readSecret } from './secret-input.ts';
import type { Options } from 'yargs';
import type { PasswordCredentials } from '../client/index.ts';

export interface SaslArgs {
  saslMechanism?: string;
  saslUsername?: string;
  saslPasswordFile?: string;
}

export const SASL_OPTIONS: Record<string, Options> = {
  'sasl-mechanism': { type: 'string', describe: 'Authenticate with SASL: plain, scram-sha-256 or scram-sha-512' },
  'sasl-username': { type: 'string', describe: 'SASL user name' },
  'sasl-password-file': { type: 'string', describe: 'File holding the SASL password (or set STREAMBUS_SASL_PASSWORD)' },
};

const MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** The credentials the arguments ask for, or undefined without --sasl-mechanism. Throws an Error for a usage mistake. */
export function saslFromArgs(args: SaslArgs, env: NodeJS.ProcessEnv = process.env): PasswordCredentials | undefined {
  if (args.saslMechanism === undefined) {
    if (args.saslUsername !== undefined || args.saslPasswordFile !== undefined) throw new Error('--sasl-username and --sasl-password-file need --sasl-mechanism');
    return undefined;
  }
  const mechanism = MECHANISMS[args.saslMechanism.toLowerCase() as keyof typeof MECHANISMS];
  if (mechanism === undefined) throw new Error(`--sasl-mechanism ${args.saslMechanism}: expected plain, scram-sha-256 or scram-sha-512`);
  if (args.saslUsername === undefined || args.saslUsername === '') throw new Error('--sasl-mechanism needs --sasl-username');
  const password = readSecret('SASL password', '--sasl-password-file', args.saslPasswordFile, 'STREAMBUS_SASL_PASSWORD', env);
  return { mechanism, username: args.saslUsername, password };
}
