/** What the CLI needs from the composition root (src/main.ts), which owns real I/O. */
import type { BrokerConfig } from '../config/index.ts';

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
}
