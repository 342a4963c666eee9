/**
 * Podman for container tests, set up as docs/containers.md says for machines without a registry:
 * podman with the runc runtime (/etc/containers/containers.conf, written only when missing), and the
 * base image debian:bookworm-slim made locally with debootstrap and imported under the name a registry
 * would give it, so `FROM debian:bookworm-slim` resolves without a pull. Every step is idempotent; the
 * first run takes about a minute (debootstrap), later ones a second.
 *
 * Where podman is missing or cannot run containers, preparePodman() skips the test with the reason
 * printed, or, under STREAMBUS_REQUIRE_TOOLS=1, fails it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { requireTool, skipOrFail } from './tools.ts';
import { runCommand } from './run-command.ts';

export const BASE_IMAGE = 'docker.io/library/debian:bookworm-slim';
const CONTAINERS_CONF = '/etc/containers/containers.conf';
// crun cannot run here (cgroups in hybrid mode), and setting RLIMIT_NOFILE is not permitted.
const CONTAINERS_CONF_TEXT = '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n';
const INSTALL_HINT = 'apt-get install podman runc podman-compose debootstrap iptables netavark aardvark-dns';

/** The Debian mirror apt uses here (for debootstrap), or Debian's own. */
export function debianMirror(): string {
  const texts: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const name of readdirSync(dir)) if (name.endsWith('.sources') || name.endsWith('.list')) texts.push(readFileSync(join(dir, name), 'utf8'));
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  for (const text of texts) {
    // deb822 stanzas (URIs: / Suites:) and one-line entries (deb URI suite components).
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uri !== undefined && suites.includes('bookworm')) return uri;
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (line) return line[1]!;
  }
  return 'http://deb.debian.org/debian';
}

/** Makes BASE_IMAGE with debootstrap unless it exists; resolves with a problem, or null. */
async function ensureBaseImage(): Promise<string | null> {
  if ((await runCommand('podman', ['image', 'exists', BASE_IMAGE], { timeoutMs: 30_000 })).status === 0) return null;
  const root = mkdtempSync('/var/tmp/streambus-rootfs-');
  try {
    const boot = await runCommand('debootstrap', ['--variant=minbase', 'bookworm', root, debianMirror()], { timeoutMs: 300_000 });
    if (boot.status !== 0) return `debootstrap failed: ${boot.stderr.trim().split('\n').slice(-3).join(' ')}`;
    // The positional parameters keep the paths out of the shell text.
    const made = await runCommand('sh', ['-c', 'tar -C "$1" -c . | podman import - "$2"', 'sh', root, BASE_IMAGE], { timeoutMs: 300_000 });
    return made.status === 0 ? null : `podman import failed: ${made.stderr.trim()}`;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** docs/containers.md's set-up; true when this machine runs containers, else the test was skipped (or failed). */
export async function preparePodman(t: TestContext): Promise<boolean> {
  for (const tool of ['podman', 'runc', 'podman-compose', 'debootstrap']) {
    if (!requireTool(t, tool, { installHint: INSTALL_HINT })) return false;
  }
  if (process.getuid?.() !== 0) return skipOrFail(t, 'container tests run podman as root (rootless podman is not set up on these machines)');
  if (!existsSync(CONTAINERS_CONF)) {
    mkdirSync('/etc/containers', { recursive: true });
    writeFileSync(CONTAINERS_CONF, CONTAINERS_CONF_TEXT);
  }
  const info = await runCommand('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], { timeoutMs: 60_000 });
  if (info.status !== 0) return skipOrFail(t, `podman does not work here: ${info.stderr.trim()}`);
  const problem = await ensureBaseImage();
  if (problem !== null) return skipOrFail(t, `no ${BASE_IMAGE} image: ${problem}`);
  const probe = await runCommand('podman', ['run', '--rm', '--network', 'none', BASE_IMAGE, 'true'], { timeoutMs: 60_000 });
  if (probe.status !== 0) return skipOrFail(t, `podman cannot run containers here: ${probe.stderr.trim()}`);
  const removed = await removeLeftovers();
  if (removed.length > 0) t.diagnostic(`removed what earlier, interrupted container tests left running: ${removed.join(', ')}`);
  return true;
}

/** Projects, networks and images of container tests are named after their test process's pid. */
const LEFTOVER = /^(?:localhost\/)?streambus(?:-test-|:test-)(\d+)(?:_|$)/;

/**
 * Removes the containers, networks and images of container tests whose process is gone (killed before
 * its clean-up ran). Their containers keep running, and podman publishes their ports with NAT rules
 * that take every connection to those loopback ports, whatever listens there: a later test handed
 * one of those ports (nothing binds it, so it looks free) can never be reached on it.
 */
async function removeLeftovers(): Promise<string[]> {
  const dead = (name: string) => {
    const pid = LEFTOVER.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid) return false;
    try {
      process.kill(Number(pid), 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  };
  const list = async (args: string[]) => {
    const run = await runCommand('podman', args, { timeoutMs: 60_000 });
    return run.status === 0 ? run.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && dead(l)) : [];
  };
  const containers = await list(['ps', '-a', '--format', '{{.Names}}']);
  if (containers.length > 0) await runCommand('podman', ['rm', '-f', '-t', '5', ...containers], { timeoutMs: 120_000 });
  const networks = await list(['network', 'ls', '--format', '{{.Name}}']);
  if (networks.length > 0) await runCommand('podman', ['network', 'rm', '-f', ...networks], { timeoutMs: 60_000 });
  const images = await list(['images', '--format', '{{.Repository}}:{{.Tag}}']);
  if (images.length > 0) await runCommand('podman', ['rmi', '-f', ...images], { timeoutMs: 60_000 });
  return [...containers, ...networks, ...images];
}
