/**
 * TLS for the CLI's connections to brokers (Kafka port and HTTPS admin port): --tls, --ca-file,
 * --cert-file, --key-file. Any of the files implies --tls. Files are read once, up front; one that
 * cannot be read is a usage error naming it.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Options } from 'yargs';

export interface TlsArgs {
  tls?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export const TLS_OPTIONS: Record<string, Options> = {
  tls: { type: 'boolean', describe: 'Connect with TLS (implied by the file options)' },
  'ca-file': { type: 'string', describe: "PEM CA bundle that signed the brokers' certificates (default: the system's)" },
  'cert-file': { type: 'string', describe: 'PEM client certificate, for brokers that require one (security.tls.clientAuthRequired)' },
  'key-file': { type: 'string', describe: 'PEM private key of --cert-file' },
};

/** The TLS settings the arguments ask for, or undefined for plaintext. Throws an Error naming a bad file (a usage error). */
export function tlsFromArgs(args: TlsArgs): ConnectionOptions | undefined {
  if (args.tls !== true && args.caFile === undefined && args.certFile === undefined && args.keyFile === undefined) return undefined;
  if ((args.certFile === undefined) !== (args.keyFile === undefined)) throw new Error('--cert-file and --key-file go together');
  const read = (option: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${option} ${path}: ${(err as Error).message}`);
    }
  };
  return {
    ...(args.caFile === undefined ? {} : { ca: read('--ca-file', args.caFile) }),
    ...(args.certFile === undefined ? {} : { cert: read('--cert-file', args.certFile), key: read('--key-file', args.keyFile!) }),
  };
}
