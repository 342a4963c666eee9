/**
 * The manifest of one backup: `<backup dir>/<id>/manifest.json`, written last (its presence is what
 * makes a backup complete). It lists every file of the broker image the backup restores, whether the
 * file's bytes were copied into this backup or are held by an earlier one of its chain (`storedIn`),
 * with the size and CRC-32C of those bytes.
 *
 * File paths are relative, `/`-separated, and start with their root:
 *   data/...     relative to storage.dataDir (partition folders, the hard-state file, identity, ...)
 *   raft/...     relative to storage.raftDir when it lies outside storage.dataDir
 *   config/...   the configuration and TLS files, by their absolute path without the leading `/`
 * A file's bytes lie at `<backup dir>/<storedIn>/files/<path>`.
 *
 * Decoding checks every field, and refuses paths that could leave their root (`..`, absolute), so a
 * damaged or crafted manifest can never make restore write outside the data directory.
 */
import { StreamBusError } from '../util/errors.ts';

export const MANIFEST_FILE_NAME = 'manifest.json';
export const FILES_DIR_NAME = 'files';
export const MANIFEST_FORMAT = 'streambus-backup';
export const MANIFEST_VERSION = 1;

export type BackupKind = 'full' | 'incremental';

/**
 * How a file is copied and checked:
 *   segment  a segment's .log: whole record batches only, each CRC-checked (the active segment: the
 *            batches written when it was read)
 *   append   an append-only file (Raft index, hard states, controller log): its bytes up to the
 *            size it had when read; a record cut at the end is a torn tail the broker cuts on open
 *   file     any other file, read whole
 *   config   a configuration or TLS file (not written back by restore)
 */
export type FileKind = 'segment' | 'append' | 'file' | 'config';

export interface ManifestFile {
  readonly path: string;
  readonly kind: FileKind;
  readonly bytes: number;
  readonly crc32c: number;
  /** The id of the backup whose files/ folder holds the bytes: this one, or an earlier one of the chain. */
  readonly storedIn: string;
  /** Segments: a sealed segment below the partition's recovery point (immutable; may be reused). */
  readonly sealed?: boolean;
  /** Segments: CRC-32C of the last TAIL_FINGERPRINT_BYTES of the file (compared before reusing it). */
  readonly tailCrc32c?: number;
  /** Segments: base offset of the first batch and one past the last offset of the last batch. */
  readonly firstOffset?: number;
  readonly nextOffset?: number;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: typeof MANIFEST_VERSION;
  readonly id: string;
  readonly kind: BackupKind;
  /** The backup this one was planned against (incremental), or null (full). */
  readonly parent: string | null;
  readonly createdAt: string;
  readonly finishedAt: string;
  readonly streambusVersion: string;
  readonly source: { readonly brokerId: number; readonly dataDir: string; readonly raftDir: string; readonly configFile: string | null };
  readonly files: readonly ManifestFile[];
}

/** Bytes at the end of a segment whose CRC-32C, with its size, tells whether it changed since the last backup. */
export const TAIL_FINGERPRINT_BYTES = 64 * 1024;

const ID_RE = /^\d{8}T\d{9}Z-(full|incremental)$/;
const KINDS: readonly FileKind[] = ['segment', 'append', 'file', 'config'];
const ROOTS = ['data', 'raft', 'config'];

function backupError(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_BACKUP', message);
}

/** A backup id: the creation time to the millisecond (UTC, sortable) and the kind, e.g. 20261206T133000123Z-full. */
export function backupId(at: Date, kind: BackupKind): string {
  const iso = at.toISOString(); // 2026-12-06T13:30:00.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}${iso.slice(20, 23)}Z-${kind}`;
}

export function isBackupId(name: string): boolean {
  return ID_RE.test(name);
}

/** The creation time an id names, in ms since the epoch, or NaN when `name` is not an id. */
export function backupIdTimeMs(name: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(name);
  if (m === null) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
}

/** True for a relative `/`-separated path under one of the roots, without empty, `.` or `..` parts. */
export function isSafeBackupPath(path: string): boolean {
  const parts = path.split('/');
  if (parts.length < 2 || !ROOTS.includes(parts[0]!)) return false;
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\0') && !p.includes('\\'));
}

export function encodeManifest(manifest: Manifest): string {
  return JSON.stringify(manifest, null, 1) + '\n';
}

function field<T>(object: Record<string, unknown>, key: string, check: (v: unknown) => boolean, where: string): T {
  const value = object[key];
  if (!check(value)) throw backupError(`${where}: field ${key} is missing or invalid (${JSON.stringify(value)})`);
  return value as T;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isCrc = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

function decodeFile(raw: unknown, where: string, ids: { self: string }): ManifestFile {
  if (!isObject(raw)) throw backupError(`${where}: not an object`);
  const o = raw as Record<string, unknown>;
  const path = field<string>(o, 'path', isString, where);
  if (!isSafeBackupPath(path)) throw backupError(`${where}: unsafe path ${JSON.stringify(path)}`);
  const kind = field<FileKind>(o, 'kind', (v) => KINDS.includes(v as FileKind), where);
  const storedIn = field<string>(o, 'storedIn', (v) => isString(v) && isBackupId(v as string), where);
  if (storedIn > ids.self) throw backupError(`${where}: stored in ${storedIn}, a later backup than ${ids.self}`);
  const file: ManifestFile = {
    path,
    kind,
    bytes: field<number>(o, 'bytes', isCount, where),
    crc32c: field<number>(o, 'crc32c', isCrc, where),
    storedIn,
    ...(o.sealed === undefined ? {} : { sealed: field<boolean>(o, 'sealed', (v) => typeof v === 'boolean', where) }),
    ...(o.tailCrc32c === undefined ? {} : { tailCrc32c: field<number>(o, 'tailCrc32c', isCrc, where) }),
    ...(o.firstOffset === undefined ? {} : { firstOffset: field<number>(o, 'firstOffset', isCount, where) }),
    ...(o.nextOffset === undefined ? {} : { nextOffset: field<number>(o, 'nextOffset', isCount, where) }),
  };
  if (kind === 'segment' && (file.firstOffset === undefined || file.nextOffset === undefined || file.nextOffset < file.firstOffset)) {
    throw backupError(`${where}: a segment needs firstOffset <= nextOffset`);
  }
  return file;
}

/** Parses and checks a manifest; throws SB_ERR_BACKUP naming `where` and the bad field. */
export function decodeManifest(text: string, where: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw backupError(`${where}: not JSON (${(err as Error).message})`);
  }
  if (!isObject(raw)) throw backupError(`${where}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  if (o.format !== MANIFEST_FORMAT) throw backupError(`${where}: not a StreamBus backup manifest`);
  if (o.version !== MANIFEST_VERSION) throw backupError(`${where}: manifest version ${JSON.stringify(o.version)}, this StreamBus reads version ${MANIFEST_VERSION}`);
  const id = field<string>(o, 'id', (v) => isString(v) && isBackupId(v as string), where);
  const kind = field<BackupKind>(o, 'kind', (v) => v === 'full' || v === 'incremental', where);
  if (!id.endsWith(`-${kind}`)) throw backupError(`${where}: id ${id} does not match kind ${kind}`);
  const parent = field<string | null>(o, 'parent', (v) => v === null || (isString(v) && isBackupId(v as string) && (v as string) < id), where);
  if ((kind === 'full') !== (parent === null)) throw backupError(`${where}: a full backup has no parent, an incremental one has one`);
  const source = field<Record<string, unknown>>(o, 'source', isObject, where);
  const files = field<unknown[]>(o, 'files', Array.isArray, where);
  const decoded = files.map((f, i) => decodeFile(f, `${where}: files[${i}]`, { self: id }));
  const seen = new Set<string>();
  for (const f of decoded) {
    if (seen.has(f.path)) throw backupError(`${where}: ${f.path} listed twice`);
    seen.add(f.path);
    if (kind === 'full' && f.storedIn !== id) throw backupError(`${where}: a full backup holds every file itself (${f.path} is in ${f.storedIn})`);
  }
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id,
    kind,
    parent,
    createdAt: field<string>(o, 'createdAt', isString, where),
    finishedAt: field<string>(o, 'finishedAt', isString, where),
    streambusVersion: field<string>(o, 'streambusVersion', isString, where),
    source: {
      brokerId: field<number>(source, 'brokerId', Number.isInteger, `${where}: source`),
      dataDir: field<string>(source, 'dataDir', isString, `${where}: source`),
      raftDir: field<string>(source, 'raftDir', isString, `${where}: source`),
      configFile: field<string | null>(source, 'configFile', (v) => v === null || isString(v), `${where}: source`),
    },
    files: decoded,
  };
}

/** The backups whose files/ folders a restore of `manifest` reads, itself included, oldest first. */
export function backupsNeeded(manifest: Manifest): string[] {
  return [...new Set(manifest.files.map((f) => f.storedIn))].sort();
}
