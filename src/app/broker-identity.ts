/**
 * Who this broker is, as its disks remember it: its id and its incarnation id, a UUID made the first
 * time the broker starts on empty directories. A known id that comes back with another incarnation lost
 * the log it once acknowledged: it must not vote until refilled (src/metadata/broker-registration.ts).
 *
 * The identity is written into both storage.dataDir (partition logs) and storage.raftDir (the
 * controller log, terms and votes), which may be different disks. Both must agree: one present and
 * the other missing means one disk was replaced, and starting anyway could vote with a lost log, so
 * the broker refuses to start and says what to do.
 */
import { join } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { StreamBusError } from '../util/errors.ts';

export const IDENTITY_FILE = 'broker-identity.json';

export interface BrokerIdentity {
  readonly brokerId: number;
  readonly incarnationId: string;
}

export async function loadOrCreateIdentity(disk: Disk, dirs: readonly string[], brokerId: number, newId: () => string): Promise<BrokerIdentity & { created: boolean }> {
  const unique = [...new Set(dirs)];
  const found = await Promise.all(unique.map(async (dir) => ({ dir, identity: await read(disk, join(dir, IDENTITY_FILE)) })));
  const present = found.filter((f) => f.identity !== null);
  if (present.length === 0) {
    const identity = { brokerId, incarnationId: newId() };
    for (const dir of unique) {
      await disk.mkdir(dir);
      await disk.writeFileDurable(join(dir, IDENTITY_FILE), new TextEncoder().encode(JSON.stringify({ version: 1, ...identity }) + '\n'));
    }
    return { ...identity, created: true };
  }
  const first = present[0]!;
  const missing = found.filter((f) => f.identity === null);
  if (missing.length > 0) {
    throw refuse(
      `${join(missing[0]!.dir, IDENTITY_FILE)} is missing while ${join(first.dir, IDENTITY_FILE)} names incarnation ${first.identity!.incarnationId}: ` +
        'one of the broker\'s directories was replaced or wiped. Starting would let the broker vote with a log it lost. ' +
        'Put the original directory back, or empty both directories: the broker then rejoins as a replaced disk and is refilled from the other brokers.',
    );
  }
  for (const f of present) {
    if (f.identity!.incarnationId !== first.identity!.incarnationId || f.identity!.brokerId !== first.identity!.brokerId) {
      throw refuse(`${join(f.dir, IDENTITY_FILE)} and ${join(first.dir, IDENTITY_FILE)} belong to different brokers or incarnations; put the matching directories together.`);
    }
  }
  if (first.identity!.brokerId !== brokerId) {
    throw refuse(
      `${join(first.dir, IDENTITY_FILE)} belongs to broker ${first.identity!.brokerId}, but server.brokerId is ${brokerId}: ` +
        'a data directory must not change brokers. Fix server.brokerId, or point storage.dataDir and storage.raftDir at this broker\'s own directories.',
    );
  }
  return { ...first.identity!, created: false };
}

async function read(disk: Disk, path: string): Promise<BrokerIdentity | null> {
  const bytes = await disk.readFile(path);
  if (bytes === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw refuse(`${path} is not JSON; restore it from the broker's other directory or a backup.`);
  }
  const v = value as { version?: unknown; brokerId?: unknown; incarnationId?: unknown };
  if (v.version !== 1 || !Number.isSafeInteger(v.brokerId) || typeof v.incarnationId !== 'string' || v.incarnationId.length === 0) {
    throw refuse(`${path} does not hold a broker identity (version 1, brokerId, incarnationId).`);
  }
  return { brokerId: v.brokerId as number, incarnationId: v.incarnationId };
}

function refuse(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_BROKER_IDENTITY', message);
}
