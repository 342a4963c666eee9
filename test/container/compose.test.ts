// Goal: the shipped Dockerfile and docker-compose.yml work as docs/containers.md says: the image holds
// the binary (native addon embedded) running as an unprivileged user; the compose file's three brokers
// form one Raft cluster that kcat produces to and consumes from through the published ports; every
// broker's health check (`streambus health` inside the container) reports healthy; SIGTERM stops the
// brokers by themselves (no SIGKILL), and the data outlives the containers: removed and created again, the brokers still
// serve every record from their volumes.
// Method: podman set up as docs/containers.md says (test/helpers/podman.ts); the binary built into a
// private build context (so dist/ is left alone); the repository's compose file run by podman-compose
// under a project name of its own, with free loopback ports and this image through its variables.
// Prometheus is left out: its image comes from a registry, which these machines do not reach.
import { after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { preparePodman } from '../helpers/podman.ts';
import { runCommand, type CommandRun } from '../helpers/run-command.ts';
import { requireTool } from '../helpers/tools.ts';
import { runKcat } from '../helpers/kcat.ts';
import { freePort } from '../helpers/ports.ts';
import { until } from '../helpers/timeout.ts';

const ROOT = resolve('.');
const PROJECT = `streambus-test-${process.pid}`;
const IMAGE = `localhost/streambus:test-${process.pid}`;
const BROKERS = ['broker1', 'broker2', 'broker3'] as const;
const TOPIC = 'container-check';
const RECORDS = Array.from({ length: 20 }, (_, i) => `record-${i}`);
const context = mkdtempSync(join(tmpdir(), 'streambus-image-'));

interface Ports {
  kafka: number[];
  http: number[];
}
let ports: Ports | null = null;
/** Set once the set-up ran; false when the machine cannot run containers (the tests were skipped). */
let usable = false;
let composeStarted = false;

const container = (service: string) => `${PROJECT}_${service}_1`;

function must(run: CommandRun, what: string): CommandRun {
  assert.equal(run.status, 0, `${what} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  return run;
}

function podman(args: readonly string[], timeoutMs = 60_000): Promise<CommandRun> {
  return runCommand('podman', args, { timeoutMs });
}

function compose(args: readonly string[], timeoutMs: number): Promise<CommandRun> {
  const { kafka, http } = ports!;
  const env = {
    ...process.env,
    STREAMBUS_IMAGE: IMAGE,
    ADVERTISED_HOST: '127.0.0.1',
    PUBLISH_ADDRESS: '127.0.0.1',
    BROKER1_PORT: String(kafka[0]),
    BROKER2_PORT: String(kafka[1]),
    BROKER3_PORT: String(kafka[2]),
    BROKER1_HTTP_PORT: String(http[0]),
    BROKER2_HTTP_PORT: String(http[1]),
    BROKER3_HTTP_PORT: String(http[2]),
  };
  return runCommand('podman-compose', ['-p', PROJECT, '-f', join(ROOT, 'docker-compose.yml'), ...args], { cwd: ROOT, env, timeoutMs });
}

const bootstrap = (index: number) => `127.0.0.1:${ports!.kafka[index]}`;

/** Every broker's health check passes (run now: without systemd podman runs none on a timer), and each is ready. */
async function waitHealthy(): Promise<void> {
  for (const [index, service] of BROKERS.entries()) {
    await until(async () => (await podman(['healthcheck', 'run', container(service)], 30_000)).status === 0, 120_000, `${service}'s health check`, 1000);
    const status = must(await podman(['inspect', container(service), '--format', '{{.State.Health.Status}}']), 'podman inspect');
    assert.equal(status.stdout.trim(), 'healthy', `${service}'s health status`);
    // Ready: storage recovered and the broker registered with the cluster's controller.
    await until(async () => (await fetch(`http://127.0.0.1:${ports!.http[index]}/health/ready`).catch(() => null))?.status === 200, 120_000, `${service} ready`, 500);
  }
}

/**
 * Reads the topic from the beginning until it has as many records as were produced (not to the end
 * of the partition: after a restart the high watermark returns only once the partition's new leader
 * committed its first entry), killed after 60 s.
 */
async function consumeAll(index: number): Promise<string[]> {
  const run = await runKcat(['-b', bootstrap(index), '-C', '-t', TOPIC, '-o', 'beginning', '-q', '-c', String(RECORDS.length), '-m', '30000'], null, 60_000);
  assert.equal(run.code, 0, `kcat did not read ${RECORDS.length} records within 60 s: ${run.stdout}${run.stderr}`);
  return run.stdout.split('\n').filter((line) => line !== '');
}

function skipUnusable(t: TestContext): boolean {
  if (usable) return false;
  t.skip('the set-up in the first test did not complete (its reason is printed there)');
  return true;
}

after(async () => {
  if (composeStarted) {
    await compose(['down', '-v', '-t', '5'], 180_000);
    // podman-compose 1.0.3 leaves the project's network behind.
    await podman(['network', 'rm', '-f', `${PROJECT}_default`]);
  }
  if (usable) await podman(['rmi', '-f', IMAGE]);
  rmSync(context, { recursive: true, force: true });
});

test('podman set up; the image builds from the binary and runs it unprivileged with the native addon', { timeout: 600_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  if (!(await preparePodman(t))) return;
  usable = true;
  // The build context the Dockerfile expects (.dockerignore: the binary and the default configuration).
  must(await runCommand(process.execPath, ['scripts/build-binary.mjs', '--outdir', join(context, 'dist')], { cwd: ROOT, timeoutMs: 180_000 }), 'build:binary');
  mkdirSync(join(context, 'deploy/container'), { recursive: true });
  for (const file of ['Dockerfile', '.dockerignore', 'deploy/container/broker.yaml']) copyFileSync(join(ROOT, file), join(context, file));
  must(await podman(['build', '--pull=never', '--format', 'docker', '-t', IMAGE, context], 300_000), 'podman build');

  const user = must(await podman(['run', '--rm', '--entrypoint', 'id', IMAGE]), 'id in the image');
  assert.match(user.stdout, /^uid=10001\(streambus\) gid=10001\(streambus\)/, 'the broker runs as the unprivileged user docs/containers.md names');
  const doctor = must(await podman(['run', '--rm', IMAGE, 'doctor', '--data-dir', '/data/streambus', '--json']), 'streambus doctor in the image');
  const report = JSON.parse(doctor.stdout) as { runtime: string; ioBackend: string; directIo: { supported: boolean } };
  assert.equal(report.runtime, 'bun');
  assert.equal(report.ioBackend, 'native', 'the addon embedded in the binary loads in the image');
  const health = must(await podman(['image', 'inspect', IMAGE, '--format', '{{json .HealthCheck.Test}}']), 'podman image inspect');
  assert.match(health.stdout, /"streambus","health"/, 'the image checks its health with the binary');
});

test('the compose file starts three healthy brokers forming one cluster', { timeout: 300_000 }, async (t) => {
  if (skipUnusable(t)) return;
  ports = { kafka: [await freePort(), await freePort(), await freePort()], http: [await freePort(), await freePort(), await freePort()] };
  composeStarted = true;
  must(await compose(['up', '-d', ...BROKERS], 180_000), 'podman-compose up');
  await waitHealthy();
  const metadata = await runKcat(['-b', bootstrap(0), '-L', '-m', '30000'], null, 60_000);
  assert.equal(metadata.code, 0, metadata.stderr);
  for (const [index] of BROKERS.entries()) assert.match(metadata.stdout, new RegExp(`broker ${index + 1} at 127\\.0\\.0\\.1:${ports.kafka[index]}`));
});

test('kcat produces through one broker and consumes the same records through each of the others', { timeout: 180_000 }, async (t) => {
  if (skipUnusable(t)) return;
  const produce = await runKcat(['-b', bootstrap(0), '-P', '-t', TOPIC, '-X', 'acks=all', '-X', 'message.timeout.ms=60000'], RECORDS.join('\n') + '\n', 90_000);
  assert.equal(produce.code, 0, produce.stderr);
  // Replicated on all three brokers: placed there, and every replica catches up (joins the ISR).
  const replicaSets = async () => {
    const topic = await runKcat(['-b', bootstrap(0), '-L', '-t', TOPIC, '-m', '30000'], null, 60_000);
    const match = /partition 0, leader \d, replicas: ([\d,]+), isrs: ([\d,]+)/.exec(topic.stdout);
    assert.ok(match, topic.stdout + topic.stderr);
    return { replicas: match[1]!.split(',').sort(), isr: match[2]!.split(',').sort() };
  };
  assert.deepEqual((await replicaSets()).replicas, ['1', '2', '3']);
  await until(async () => (await replicaSets()).isr.length === 3, 60_000, 'all three replicas in sync', 500);
  assert.deepEqual(await consumeAll(1), RECORDS);
  assert.deepEqual(await consumeAll(2), RECORDS);
});

test('stopped by SIGTERM, removed and created again, the brokers serve the records from their volumes', { timeout: 400_000 }, async (t) => {
  if (skipUnusable(t)) return;
  // podman-compose stops the services one after the other, last listed first.
  must(await compose(['stop', '-t', '30'], 180_000), 'podman-compose stop');
  const exitCode = async (service: string) => must(await podman(['inspect', container(service), '--format', '{{.State.ExitCode}}']), 'podman inspect').stdout.trim();
  // Stopped while both others still ran: a clean stop, exit 0.
  assert.equal(await exitCode('broker3'), '0', 'broker3 stops cleanly on SIGTERM');
  // A known defect (docs/containers.md): a broker stopped after the controller lost its majority
  // (broker2 here, with broker3 gone) or the last one sometimes ends its stop at
  // server.shutdownTimeout (exit 1, "graceful stop timed out"). It must still end it itself: never the
  // SIGKILL (137) of a broker that ignored SIGTERM; the data must survive either way (checked below).
  assert.match(await exitCode('broker2'), /^[01]$/, 'broker2 exits by itself on SIGTERM');
  assert.match(await exitCode('broker1'), /^[01]$/, 'broker1 exits by itself on SIGTERM');
  // Where such a stop spent its time (each stop step is logged with its duration); the controller
  // log's close is bounded (cluster-node.ts), and a stop that ran into that bound says so.
  for (const service of ['broker2', 'broker1']) {
    const logs = await podman(['logs', '--tail', '30', container(service)]);
    const text = logs.stdout + logs.stderr;
    if ((await exitCode(service)) !== '0') t.diagnostic(`${service} ended its stop at the shutdown timeout; its last lines:\n${text}`);
    else if (text.includes('controller log did not close in time')) t.diagnostic(`${service} stopped without waiting for its controller log to close`);
  }
  // down without -v removes the containers and keeps the named volumes.
  must(await compose(['down', '-t', '30'], 180_000), 'podman-compose down');
  const volumes = must(await podman(['volume', 'ls', '--format', '{{.Name}}']), 'podman volume ls');
  for (const service of BROKERS) assert.ok(volumes.stdout.split('\n').includes(`${PROJECT}_${service}-data`), `the volume of ${service} outlives its container`);
  must(await compose(['up', '-d', ...BROKERS], 180_000), 'podman-compose up again');
  await waitHealthy();
  assert.deepEqual(await consumeAll(2), RECORDS);
});
