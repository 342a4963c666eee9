/** What the CLI needs from the composition root (src/main.ts), which owns real I/O. */
import type { BrokerConfig } from '../config/index.ts';
import type { Disk } from '../io/disk.ts';
import type { LockDirectory } from '../backup/backup-folder.ts';

export interface DoctorReport {
  runtime: string;
  runtimeVersion: string;
  ioBackend: string;
  ioBackendReason: string;
  dataDir: string;
  directIo: { supported: boolean; detail: string };
  freeBytes: number | null;
  totalBytes: number | null;
  openFileLimit: { soft: number | 'unlimited' | null; hard: number | 'unlimited' | null };
}

export interface CliServices {
  /** Runs a broker until a signal stops it; resolves with the process exit code. */
  runBroker(config: BrokerConfig): Promise<number>;
  doctor(dataDir: string): Promise<DoctorReport>;
  /** The storage Disk (native addon when it loads), for offline file work: backup and restore. */
  disk(): Disk;
  /** Takes a folder's `.lock` as the broker does its data directory's (refused while a live process holds it). */
  lockDirectory: LockDirectory;
}
