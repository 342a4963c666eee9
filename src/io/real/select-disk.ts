/**
 * Chooses the Disk backend: the native addon when it loads, else the portable node:fs one.
 * `backend` forces a choice (config `storage.ioBackend`, tests); forcing 'native' when the addon
 * cannot load is an error with the reason.
 */
import type { Disk } from '../disk.ts';
import { StreamBusError } from '../../util/errors.ts';
import { loadNativeAddon } from './native-addon.ts';
import { NativeDisk } from './native-disk.ts';
import { PortableDisk } from './portable-disk.ts';

export type DiskBackendChoice = 'auto' | 'native' | 'portable';

export function createDisk(backend: DiskBackendChoice = 'auto'): Disk {
  if (backend === 'portable') return new PortableDisk('portable backend chosen by configuration');
  const { addon, reason } = loadNativeAddon();
  if (addon) return new NativeDisk(addon, reason);
  if (backend === 'native') throw new StreamBusError('SB_ERR_NATIVE_UNAVAILABLE', reason);
  return new PortableDisk(reason);
}
