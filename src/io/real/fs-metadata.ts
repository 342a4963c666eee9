/**
 * Folder and small-file operations over node:fs, shared by both Disk backends (the addon adds
 * nothing here: these are rare and not on the hot path).
 */
import { promises as fsp, constants } from 'node:fs';
import { dirname } from 'node:path';
import { toIoError } from './io-error.ts';

export class FsMetadata {
  async mkdir(path: string): Promise<void> {
    try {
      await fsp.mkdir(path, { recursive: true });
    } catch (e) {
      throw toIoError(e, path, 'mkdir');
    }
  }

  async readdir(path: string): Promise<string[]> {
    try {
      return (await fsp.readdir(path)).sort();
    } catch (e) {
      throw toIoError(e, path, 'readdir');
    }
  }

  async fileSize(path: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(path)).size;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw toIoError(e, path, 'stat');
    }
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(path);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return undefined;
      throw toIoError(e, path, 'read');
    }
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    try {
      await fsp.writeFile(path, data);
    } catch (e) {
      throw toIoError(e, path, 'write');
    }
  }

  async writeFileDurable(path: string, data: Uint8Array): Promise<void> {
    const temp = `${path}.tmp`;
    try {
      const handle = await fsp.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(temp, path);
    } catch (e) {
      throw toIoError(e, path, 'write durably');
    }
    await this.syncDir(dirname(path));
  }

  async syncFile(path: string): Promise<void> {
    try {
      const handle = await fsp.open(path, constants.O_RDONLY);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw toIoError(e, path, 'fsync');
    }
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await fsp.rename(from, to);
    } catch (e) {
      throw toIoError(e, from, `rename to ${to}`);
    }
  }

  async unlink(path: string): Promise<void> {
    try {
      await fsp.unlink(path);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return;
      throw toIoError(e, path, 'unlink');
    }
  }

  async removeDir(path: string): Promise<void> {
    try {
      await fsp.rm(path, { recursive: true, force: true });
    } catch (e) {
      throw toIoError(e, path, 'remove folder');
    }
  }

  async syncDir(path: string): Promise<void> {
    try {
      const handle = await fsp.open(path, constants.O_RDONLY);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (e) {
      throw toIoError(e, path, 'fsync folder');
    }
  }
}
