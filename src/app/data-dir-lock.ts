/**
 * One broker per data directory: `<dataDir>/.lock` holds the owner's PID. A second broker pointed at
 * the same folder refuses to start (two writers would corrupt every log). A lock left by a process that
 * is gone (SIGKILL, power loss) is taken over; on Linux a live PID counts only when that process is a
 * StreamBus process that takes such locks (its command line says `broker`, `backup` or `restore`), so
 * a PID reused by an unrelated process does not block start-up.
 *
 * The same lock keeps `streambus restore` and a broker out of each other's data directory, and two
 * `streambus backup` runs (create, prune) out of one backup folder (lockDirectory).
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StreamBusError } from '../util/errors.ts';

export interface DataDirLock {
  release(): void;
}

function brokerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return /broker|backup|restore/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: trust the PID
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  return lockDirectory(dataDir, `data directory ${dataDir} is in use by another broker`, 'each broker needs its own storage.dataDir');
}

/**
 * Takes `<dir>/.lock` (creating the folder). When a live process holds it, fails with
 * "`inUse` (pid N); `hint`".
 */
export function lockDirectory(dir: string, inUse: string, hint: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (Number(readFileSync(path, 'utf8').trim()) === process.pid) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StreamBusError('SB_ERR_IO', `cannot lock ${dir}: ${(err as Error).message}`, { cause: err });
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // removed meanwhile: retry
      }
      if (brokerAlive(owner)) {
        throw new StreamBusError('SB_ERR_IO', `${inUse} (pid ${owner}); ${hint}`);
      }
      try {
        unlinkSync(path);
      } catch {
        // another starter took it over first; the next attempt decides
      }
    }
  }
  throw new StreamBusError('SB_ERR_IO', `cannot lock ${dir}: another process keeps taking the lock`);
}
