/**
 * Planning an incremental backup (pure): which earlier backup it builds on, and which files it may
 * take from there instead of copying them again.
 *
 * Only sealed segments are ever reused: segments below their partition's recovery point, which the
 * broker never appends to again. Two things still rewrite such a file under the same name:
 * compaction (it removes records, so the file shrinks) and a Raft truncation into it (its tail
 * changes). A sealed segment is therefore reused only when the earlier backup holds it sealed too,
 * with the same size and the same CRC-32C of its last TAIL_FINGERPRINT_BYTES; anything else (the
 * active segment, Raft index and state, metadata, configuration) is copied by every backup.
 */
import type { Manifest, ManifestFile } from './manifest.ts';

/** What create knows of a sealed segment before reading it all. */
export interface SealedSegmentProbe {
  readonly path: string;
  readonly bytes: number;
  readonly tailCrc32c: number;
}

/** The backup an incremental one builds on: the newest complete one, or null when there is none. */
export function chooseParent(manifests: readonly Manifest[]): Manifest | null {
  let newest: Manifest | null = null;
  for (const m of manifests) if (newest === null || m.id > newest.id) newest = m;
  return newest;
}

/** The files of `parent` an incremental backup may take over, by path. */
export function reusableFiles(parent: Manifest | null): Map<string, ManifestFile> {
  const out = new Map<string, ManifestFile>();
  if (parent === null) return out;
  for (const f of parent.files) if (f.kind === 'segment' && f.sealed === true) out.set(f.path, f);
  return out;
}

/** The parent's entry for `probe` when the segment is unchanged since (same size and tail), else null. */
export function reuseOf(probe: SealedSegmentProbe, reusable: ReadonlyMap<string, ManifestFile>): ManifestFile | null {
  const previous = reusable.get(probe.path);
  if (previous === undefined) return null;
  if (previous.bytes !== probe.bytes || previous.tailCrc32c !== probe.tailCrc32c) return null;
  return previous;
}
