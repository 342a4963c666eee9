/** `streambus doctor`: reports what this machine gives the broker (runtime, I/O backend, O_DIRECT, disk, fds). */
import type { Argv } from 'yargs';
import type { CliServices, DoctorReport } from '../services.ts';
import { formatBytes } from '../format.ts';

export function doctorCommand(y: Argv, services: CliServices): Argv {
  return y.command(
    'doctor',
    'Check the runtime, I/O backend, O_DIRECT support, free space and open-file limit',
    (d) =>
      d
        .option('data-dir', { type: 'string', default: './data', describe: 'Data directory to check' })
        .option('json', { type: 'boolean', default: false, describe: 'Print JSON' }),
    async (argv) => {
      const report = await services.doctor(argv['data-dir']);
      process.stdout.write(argv.json ? JSON.stringify(report, null, 2) + '\n' : render(report));
    },
  );
}

function render(r: DoctorReport): string {
  const rows: [string, string][] = [
    ['runtime', `${r.runtime} ${r.runtimeVersion}`],
    ['I/O backend', `${r.ioBackend} (${r.ioBackendReason})`],
    ['data dir', r.dataDir],
    ['O_DIRECT', `${r.directIo.supported ? 'works' : 'not available'} (${r.directIo.detail})`],
    ['free space', r.freeBytes === null ? 'unknown' : `${formatBytes(r.freeBytes)} of ${formatBytes(r.totalBytes ?? 0)}`],
    ['open-file limit', `soft ${r.openFileLimit.soft ?? 'unknown'}, hard ${r.openFileLimit.hard ?? 'unknown'}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}
