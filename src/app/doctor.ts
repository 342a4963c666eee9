/** `streambus doctor`: facts about this machine that decide how well a broker runs on it. */
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { DoctorReport } from '../cli/services.ts';
import { createDisk } from '../io/real/select-disk.ts';
import { openFileLimit, probeDirectIo } from '../io/real/system.ts';

export function runtimeName(): { name: string; version: string } {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun) return { name: 'bun', version: versions.bun };
  if (versions.deno) return { name: 'deno', version: versions.deno };
  return { name: 'node', version: process.versions.node };
}

export async function doctor(dataDirArg: string): Promise<DoctorReport> {
  const dataDir = resolve(dataDirArg);
  const disk = createDisk('auto');
  const runtime = runtimeName();
  let directIo: DoctorReport['directIo'];
  let freeBytes: number | null = null;
  let totalBytes: number | null = null;
  try {
    mkdirSync(dataDir, { recursive: true });
    const probe = await probeDirectIo(dataDir);
    directIo = { supported: probe.supported, detail: probe.supported ? 'aligned write and fdatasync succeeded' : (probe.reason ?? 'refused') };
    const stats = await disk.statfs(dataDir);
    freeBytes = stats.availableBytes;
    totalBytes = stats.totalBytes;
  } catch (err) {
    directIo = { supported: false, detail: `cannot use ${dataDir}: ${(err as Error).message}` };
  }
  const limit = openFileLimit();
  return {
    runtime: runtime.name,
    runtimeVersion: runtime.version,
    ioBackend: disk.info.backend,
    ioBackendReason: disk.info.reason,
    dataDir,
    directIo,
    freeBytes,
    totalBytes,
    openFileLimit: { soft: limit ? finite(limit.soft) : null, hard: limit ? finite(limit.hard) : null },
  };
}

function finite(n: number): number | 'unlimited' {
  return Number.isFinite(n) ? n : 'unlimited';
}
