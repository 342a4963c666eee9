/**
 * Entry point and composition root. The single binary answers to three names:
 *   streambus         the CLI (`streambus broker`, `streambus doctor`, ...)
 *   streambus-broker  the same as `streambus broker`
 *   streambus-cli     the CLI
 * Only this module (and src/app, which it drives) wires real I/O into the broker.
 */
import { basename } from 'node:path';
import { runCli } from './cli/cli.ts';
import { runBroker } from './app/run-broker.ts';
import { doctor } from './app/doctor.ts';
import { lockDirectory } from './app/data-dir-lock.ts';
import { createDisk } from './io/real/select-disk.ts';

function invokedName(): string {
  // Node and Deno: argv[1] is the script (bin/streambus or a link to it). A compiled binary: argv0 or
  // execPath carry the name it was started under (a link keeps its own name in argv0).
  const candidates = [process.argv0, process.argv[1] ?? '', process.execPath].map((p) => basename(p));
  return candidates.find((n) => n.startsWith('streambus-')) ?? 'streambus';
}

async function main(): Promise<void> {
  const name = invokedName();
  const args = process.argv.slice(2);
  if (name === 'streambus-broker' && args[0] !== 'broker') args.unshift('broker');
  await runCli(args, { runBroker, doctor, disk: () => createDisk('auto'), lockDirectory }, name === 'streambus-broker' ? 'streambus-broker' : name);
}

main().catch((err: unknown) => {
  process.stderr.write(`streambus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
