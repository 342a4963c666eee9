/**
 * The one place that loads the native I/O addon (build/Release/streambus.node, built from native/
 * by binding.gyp). The path is a static literal so that `bun build --compile` sees it and embeds the
 * addon in the single executable; from the compiled tree (lib/src/io/real) the same relative path
 * reaches it through the lib/build -> build link. In Node's ESM `require` does not exist, so the
 * same literal goes through createRequire there.
 *
 * Loading never throws: when the addon is missing or unusable, `loadNativeAddon()` says why and the
 * portable backend (portable-disk.ts) takes over.
 */
import { createRequire } from 'node:module';

/** An opaque handle owned by the addon (a segment or a read descriptor). */
export type NativeHandle = { readonly __nativeHandle: unique symbol };

export interface NativeOpenResult {
  handle: NativeHandle;
  direct: boolean;
  directRefused: boolean;
  preallocated: boolean;
  fileSize: number;
}

/** The addon's surface; see native/*.cc for each function's contract. Errors carry code/errno/syscall/path. */
export interface NativeAddon {
  readonly abiVersion: number;
  readonly crc32cHardware: boolean;
  openSegment(path: string, options: { direct: boolean; preallocate: number; size: number }): Promise<NativeOpenResult>;
  append(handle: NativeHandle, buffers: Uint8Array[]): Promise<number>;
  appendNow(handle: NativeHandle, buffers: Uint8Array[]): number;
  sync(handle: NativeHandle, full?: boolean): Promise<void>;
  truncate(handle: NativeHandle, size: number): Promise<void>;
  close(handle: NativeHandle): Promise<void>;
  segmentSize(handle: NativeHandle): number;
  mapReadonly(path: string): ArrayBuffer;
  openFile(path: string): Promise<NativeHandle>;
  pread(handle: NativeHandle, target: Uint8Array, position: number): Promise<number>;
  closeFile(handle: NativeHandle): Promise<void>;
  crc32c(data: Uint8Array, seed?: number, start?: number, end?: number): number;
  statfs(path: string): { blockSize: number; totalBytes: number; freeBytes: number; availableBytes: number };
  sdNotify(state: string): boolean;
  probeDirect(dir: string): Promise<{ supported: boolean; errno?: string; syscall?: string }>;
  openFileLimit(): { soft: number; hard: number };
}

export interface NativeAddonStatus {
  /** The addon, or undefined when it could not be loaded. */
  readonly addon: NativeAddon | undefined;
  /** Why this outcome: the loaded path and CPU features, or the load error. */
  readonly reason: string;
}

const EXPECTED_ABI = 1;
let status: NativeAddonStatus | undefined;

function requireAddon(): unknown {
  return typeof require === 'function'
    ? require('../../../build/Release/streambus.node')
    : createRequire(import.meta.url)('../../../build/Release/streambus.node');
}

/** Loads the addon once; later calls return the same status. */
export function loadNativeAddon(): NativeAddonStatus {
  if (status) return status;
  try {
    const addon = requireAddon() as NativeAddon;
    if (addon.abiVersion !== EXPECTED_ABI) {
      status = { addon: undefined, reason: `native addon has ABI ${addon.abiVersion}, expected ${EXPECTED_ABI}; rebuild it (npm run install)` };
    } else {
      status = {
        addon,
        reason: `native addon build/Release/streambus.node loaded (CRC32C ${addon.crc32cHardware ? 'SSE4.2' : 'software'})`,
      };
    }
  } catch (e) {
    const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
    status = { addon: undefined, reason: `native addon not loaded (${message}); using node:fs and table CRC32C` };
  }
  return status;
}
