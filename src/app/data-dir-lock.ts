/**
 * One broker per data directory: `<dataDir>/.lock` holds the owner's PID. A second broker pointed at
 * the same folder refuses to start (two writers would corrupt every log). A lock left by a process that
 * is gone (SIGKILL, power loss) is taken over; on Linux a live PID counts only when that process is a
 * broker (its command line says `broker`), so a PID reused by an unrelated process does not block start-up.
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
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('broker');
  } catch {
    return true; // no /proc: trust the PID
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, '.lock');
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
        throw new StreamBusError('SB_ERR_IO', `cannot lock data directory ${dataDir}: ${(err as Error).message}`, { cause: err });
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // removed meanwhile: retry
      }
      if (brokerAlive(owner)) {
        throw new StreamBusError('SB_ERR_IO', `data directory ${dataDir} is in use by another broker (pid ${owner}); each broker needs its own storage.dataDir`);
      }
      try {
        unlinkSync(path);
      } catch {
        // another starter took it over first; the next attempt decides
      }
    }
  }
  throw new StreamBusError('SB_ERR_IO', `cannot lock data directory ${dataDir}: another process keeps taking the lock`);
}
