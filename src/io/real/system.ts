/**
 * Host facts and service-manager signals for the broker and `streambus doctor`. Each works with
 * the native addon and degrades to a stated "unknown" without it.
 */
import { toIoError } from './io-error.ts';
import { loadNativeAddon } from './native-addon.ts';

/**
 * Sends `state` (e.g. "READY=1", "STOPPING=1", "STATUS=...") to systemd's $NOTIFY_SOCKET.
 * Returns true when sent; false when NOTIFY_SOCKET is unset or the addon (which owns the datagram
 * socket; Node has no unix datagram sockets) is not loaded. Throws IoError when the send fails.
 */
export function sdNotify(state: string): boolean {
  const { addon } = loadNativeAddon();
  if (!addon) return false;
  try {
    return addon.sdNotify(state);
  } catch (e) {
    throw toIoError(e, process.env['NOTIFY_SOCKET'] ?? '', 'sd_notify');
  }
}

export interface DirectIoProbe {
  /** true: O_DIRECT open, aligned write and fdatasync all worked in the folder. */
  readonly supported: boolean;
  /** Why not (errno name, or "native addon not loaded"). */
  readonly reason?: string;
}

/** Whether O_DIRECT works in `dir` (writes and removes a one-page scratch file). */
export async function probeDirectIo(dir: string): Promise<DirectIoProbe> {
  const { addon, reason } = loadNativeAddon();
  if (!addon) return { supported: false, reason };
  try {
    const r = await addon.probeDirect(dir);
    return r.supported ? { supported: true } : { supported: false, reason: `${r.syscall ?? 'open'} refused O_DIRECT: ${r.errno}` };
  } catch (e) {
    throw toIoError(e, dir, 'probe O_DIRECT');
  }
}

/** The open-file limit (RLIMIT_NOFILE; Infinity when unlimited), or undefined without the addon. */
export function openFileLimit(): { soft: number; hard: number } | undefined {
  const { addon } = loadNativeAddon();
  return addon?.openFileLimit();
}
