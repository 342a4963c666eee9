/**
 * `streambus backup create|list|verify|prune` and `streambus restore` (docs/backup.md). The work is
 * done by src/backup/; this file reads the configuration, prints progress on stderr and a summary
 * (or JSON) on stdout, and maps failures to exit codes: 1 for a failure (verify: any mismatch),
 * 2 for a usage mistake.
 */
import type { Argv } from 'yargs';
import { KEYS, type BrokerConfig } from '../../config/index.ts';
import { VERSION } from '../../util/version.ts';
import { createBackup } from '../../backup/create-backup.ts';
import { listBackups } from '../../backup/backup-folder.ts';
import { backupsNeeded } from '../../backup/manifest.ts';
import { pruneBackups } from '../../backup/prune-backups.ts';
import { restoreBackup } from '../../backup/restore-backup.ts';
import { verifyBackups } from '../../backup/verify-backup.ts';
import { UsageError, failWith, out, printJson } from '../client-command.ts';
import { formatBytes, formatTable } from '../format.ts';
import type { CliServices } from '../services.ts';
import { configFromArgv, withConfigOptions } from './config-loading.ts';
import { EXIT_FAILURE } from './exit-codes.ts';

const DEFAULT_KEEP_DAYS = 30;
const PROGRESS_INTERVAL_MS = 1000;

/** What create, verify and restore print: progress on stderr, the summary as text or JSON. */
const OUTPUT_OPTIONS = {
  progress: { type: 'boolean', describe: 'Print progress on stderr (default: when stderr is a terminal)' },
  json: { type: 'boolean', default: false, describe: 'Print the summary as JSON' },
} as const;

/** Progress lines on stderr (with --progress, or when stderr is a terminal), at most one a second and the last one. */
function progressPrinter(flag: boolean | undefined): (line: string, last: boolean) => void {
  const enabled = flag ?? process.stderr.isTTY === true;
  let printedAt = 0;
  return (line, last) => {
    if (!enabled) return;
    const now = Date.now();
    if (!last && now - printedAt < PROGRESS_INTERVAL_MS) return;
    printedAt = now;
    process.stderr.write(`${line}\n`);
  };
}

/** The files a configuration names besides its folders: TLS certificate, key and CA, JWT keys. */
function configuredFiles(config: BrokerConfig): string[] {
  const out: string[] = [];
  for (const info of KEYS) {
    if (info.spec.type.doc !== 'path' || !info.key.endsWith('File')) continue;
    const value = info.key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], config);
    if (typeof value === 'string' && value !== '') out.push(value);
  }
  return out;
}

async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    await failWith(err);
  }
}

export function backupCommand(y: Argv, services: CliServices): Argv {
  return y.command('backup', 'Back up a broker\'s data, Raft state and configuration; list, verify and prune backups', (b) =>
    b
      .command(
        'create',
        'Back up the broker of --config into --to DIR (incremental when DIR holds a backup of it, else full)',
        (c) =>
          withConfigOptions(c)
            .option('to', { type: 'string', demandOption: true, describe: 'Backup folder (a mounted backup volume; one per broker)' })
            .option('full', { type: 'boolean', default: false, describe: 'Make a full backup even when DIR holds a chain' })
            .option(OUTPUT_OPTIONS),
        (argv) =>
          run(async () => {
            const config = configFromArgv(argv as Record<string, unknown>);
            const progress = progressPrinter(argv.progress);
            const result = await createBackup(services.disk(), {
              backupDir: argv.to,
              dataDir: config.storage.dataDir,
              raftDir: config.storage.raftDir,
              brokerId: config.server.brokerId,
              configFile: (argv.config as string | undefined) ?? null,
              configFiles: configuredFiles(config),
              full: argv.full,
              version: VERSION,
              now: () => new Date(),
              lock: services.lockDirectory,
              onProgress: ({ partitionsDone, partitionsTotal, totals }) =>
                progress(`backup: ${partitionsDone}/${partitionsTotal} partitions, ${formatBytes(totals.copiedBytes)} copied, ${formatBytes(totals.reusedBytes)} unchanged`, partitionsDone === partitionsTotal),
            });
            const m = result.manifest;
            const summary = { id: m.id, kind: m.kind, parent: m.parent, partitions: result.partitions, files: m.files.length, ...result.totals, vanishedPartitions: result.vanishedPartitions };
            if (argv.json) return printJson(summary);
            await out(
              `created ${m.kind} backup ${m.id}${m.parent === null ? '' : ` (on ${m.parent})`}: ${result.partitions} partitions, ${m.files.length} files; ` +
                `copied ${result.totals.copiedFiles} files (${formatBytes(result.totals.copiedBytes)}), kept ${result.totals.reusedFiles} unchanged (${formatBytes(result.totals.reusedBytes)})\n`,
            );
          }),
      )
      .command(
        'list <dir>',
        'List the backups in DIR',
        (c) => c.positional('dir', { type: 'string', demandOption: true }).option('json', { type: 'boolean', default: false, describe: 'Print JSON' }),
        (argv) =>
          run(async () => {
            const entries = await listBackups(services.disk(), argv.dir);
            const rows = entries.map((e) => {
              const m = e.manifest;
              const stored = m === null ? 0 : m.files.filter((f) => f.storedIn === m.id).reduce((s, f) => s + f.bytes, 0);
              const total = m === null ? 0 : m.files.reduce((s, f) => s + f.bytes, 0);
              return { id: e.id, kind: m?.kind ?? 'unfinished', complete: m !== null, parent: m?.parent ?? null, createdAt: new Date(e.createdAtMs).toISOString(), files: m?.files.length ?? 0, storedBytes: stored, totalBytes: total, needs: m === null ? [] : backupsNeeded(m) };
            });
            if (argv.json) return printJson(rows);
            if (rows.length === 0) return out(`no backups in ${argv.dir}\n`);
            await out(formatTable(['ID', 'KIND', 'CREATED', 'FILES', 'STORED', 'RESTORES', 'NEEDS'], rows.map((r) => [r.id, r.kind, r.createdAt, String(r.files), formatBytes(r.storedBytes), formatBytes(r.totalBytes), String(r.needs.length)])));
          }),
      )
      .command(
        'verify <dir>',
        'Re-read every file and record batch of the backups in DIR and check them against the manifests (exit 1 on any mismatch)',
        (c) =>
          c
            .positional('dir', { type: 'string', demandOption: true })
            .option('backup', { type: 'string', describe: 'Verify only this backup (and the backups it reads)' })
            .option(OUTPUT_OPTIONS),
        (argv) =>
          run(async () => {
            const progress = progressPrinter(argv.progress);
            const result = await verifyBackups(services.disk(), argv.dir, argv.backup, (done, total) => progress(`verify: ${done}/${total} files`, done === total));
            if (argv.json) await printJson({ ok: result.problems.length === 0, ...result });
            else {
              for (const p of result.problems) process.stderr.write(`streambus: ${[p.backup, p.path].filter((s) => s !== '').join('/')}: ${p.problem}\n`);
              await out(`${result.problems.length === 0 ? 'ok' : 'FAILED'}: ${result.backups.length} backups, ${result.files} files (${formatBytes(result.bytes)}) read, ${result.problems.length} problem(s)\n`);
            }
            if (result.problems.length > 0) process.exitCode = EXIT_FAILURE;
          }),
      )
      .command(
        'prune <dir>',
        `Remove backups older than --keep-days (default ${DEFAULT_KEEP_DAYS}), keeping every backup a kept one still needs`,
        (c) =>
          c
            .positional('dir', { type: 'string', demandOption: true })
            .option('keep-days', { type: 'number', default: DEFAULT_KEEP_DAYS, describe: 'Keep backups created within this many days' })
            .option('dry-run', { type: 'boolean', default: false, describe: 'Print what would be removed, remove nothing' })
            .option('json', { type: 'boolean', default: false, describe: 'Print JSON' }),
        (argv) =>
          run(async () => {
            if (!Number.isFinite(argv.keepDays) || argv.keepDays < 0) throw new UsageError(`--keep-days must be a number >= 0, got ${argv.keepDays}`);
            const plan = await pruneBackups(services.disk(), { backupDir: argv.dir, keepDays: argv.keepDays, nowMs: Date.now(), dryRun: argv.dryRun, lock: services.lockDirectory });
            if (argv.json) return printJson({ dryRun: argv.dryRun, ...plan });
            const verb = argv.dryRun ? 'would remove' : 'removed';
            await out(`${verb} ${plan.remove.length} backup(s)${plan.remove.length > 0 ? `: ${plan.remove.join(', ')}` : ''}; kept ${plan.keep.length}\n`);
          }),
      )
      .demandCommand(1, 'Name a backup command: create, list, verify or prune.'),
  );
}

export function restoreCommand(y: Argv, services: CliServices): Argv {
  return y.command(
    'restore',
    'Restore a backup from --from DIR into the empty data directory of --config (the broker must be stopped)',
    (c) =>
      withConfigOptions(c)
        .option('from', { type: 'string', demandOption: true, describe: 'Backup folder' })
        .option('backup', { type: 'string', describe: 'The backup to restore (default: the newest complete one)' })
        .option(OUTPUT_OPTIONS),
    (argv) =>
      run(async () => {
        const config = configFromArgv(argv as Record<string, unknown>);
        const progress = progressPrinter(argv.progress);
        const result = await restoreBackup(services.disk(), {
          backupDir: argv.from,
          ...(argv.backup === undefined ? {} : { id: argv.backup }),
          dataDir: config.storage.dataDir,
          raftDir: config.storage.raftDir,
          lock: services.lockDirectory,
          onProgress: (phase, done, total) => progress(`restore: ${phase === 'verify' ? 'verified' : 'wrote'} ${done}/${total} files`, done === total),
        });
        const summary = { id: result.manifest.id, files: result.files, bytes: result.bytes, dataDir: config.storage.dataDir, raftDir: config.storage.raftDir, configFiles: result.configFiles };
        if (argv.json) return printJson(summary);
        const others = config.cluster.nodes.filter((n) => n.id !== config.server.brokerId).length;
        await out(
          `restored backup ${result.manifest.id}: ${result.files} files (${formatBytes(result.bytes)}) into ${config.storage.dataDir}\n` +
            result.configFiles.map((f) => `  configuration file ${f.original} is kept in the backup as ${f.stored}\n`).join('') +
            (others > 0 ? `  broker ${config.server.brokerId} is one of ${others + 1}: restore every broker of the cluster before starting any (docs/backup.md)\n` : ''),
        );
      }),
  );
}
