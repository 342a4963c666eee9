// Memory cgroups for benchmark brokers (root only): each process put in a cgroup of its own, under
// this process's memory cgroup, with a memory limit. A broker that has run for a while has its
// machine's memory full of page cache, and the kernel recycles those pages for new writes; a freshly
// booted virtual machine hands out free pages instead, and where the hypervisor takes free pages back
// (virtio-balloon free page reporting) each one costs a fault on the host when first written again,
// about ten times the copy itself (docs/benchmarks.md). Under a limit, page cache is recycled as in
// that steady state. Works with cgroup v2 (memory.max) and v1 (memory.limit_in_bytes).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `1GiB`, `512MiB` or a byte count. */
export function parseBytes(text) {
  const m = /^(\d+)\s*(GiB|MiB|KiB)?$/.exec(String(text).trim());
  if (m === null) throw new Error(`not a size: ${text} (use e.g. 1GiB, 512MiB or bytes)`);
  return Number(m[1]) * { GiB: 2 ** 30, MiB: 2 ** 20, KiB: 2 ** 10, undefined: 1 }[m[2]];
}

/** The folder of this process's memory cgroup, and the name of its limit file. */
function ownMemoryCgroup() {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const v1 = lines.map((l) => l.split(':')).find(([, controllers]) => controllers.split(',').includes('memory'));
  if (v1 !== undefined && existsSync('/sys/fs/cgroup/memory')) return { dir: join('/sys/fs/cgroup/memory', v1[2]), limitFile: 'memory.limit_in_bytes' };
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 !== undefined && existsSync('/sys/fs/cgroup/cgroup.controllers')) return { dir: join('/sys/fs/cgroup', v2.slice(3)), limitFile: 'memory.max' };
  throw new Error('no memory cgroup found (cgroup v1 memory controller or cgroup v2 needed)');
}

/**
 * Puts `pid` in a new cgroup `name` limited to `limitBytes`; returns a function that removes the
 * cgroup once the process has exited.
 */
export function limitMemory(name, pid, limitBytes) {
  const own = ownMemoryCgroup();
  const dir = join(own.dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, own.limitFile), String(limitBytes));
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
  return () => {
    try {
      rmdirSync(dir);
    } catch {
      // still in use or already gone
    }
  };
}
