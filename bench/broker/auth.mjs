#!/usr/bin/env node
// What authentication costs per connection: how many new client connections per second a broker
// completes (TCP, TLS handshake, authentication, one Metadata request, close) in seven setups, each
// against its own broker process: plaintext (the baseline), TLS without client certificates, the
// guide's mTLS, SASL SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN over TLS, and SASL OAUTHBEARER with a JWT
// over TLS. C clients connect concurrently, each one connection after the other, for a bounded time
// and count; setups alternate over the runs; medians, and ratios against the plaintext baseline of the
// same run. One raw client for all setups (the tests' RawKafka, the project's request codecs, its client's
// SASL PLAIN/SCRAM exchange), so every setup pays for the same client work. Writes
// bench/results/auth.json.
//
//   node bench/broker/auth.mjs [--runs N] [--seconds S] [--clients C] [--max-connections N]
//                              [--setups a,b] [--jwt-alg ES256|RS256] [--quick] [--from-source]
//
// Needs `node scripts/build.mjs` (lib/) and openssl. Every loop is bounded by time and count.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createSecureContext } from 'node:tls';
import { join, resolve } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { benchArgs, benchProvenance, makeGuideCertificates, median, percentile, procStat, runBench, startBrokerProcess, tlsBrokerEnv, writeBenchReport } from './broker-procs.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const { RawKafka } = await import(join(ROOT, 'lib/test/helpers/raw-kafka.js'));
const { API_KEYS } = await import(join(ROOT, 'lib/src/protocol/kafka/generated/index.js'));
const { saslAuthenticate } = await import(join(ROOT, 'lib/src/client/sasl-client.js'));

const args = process.argv.slice(2);
const { flag } = benchArgs(args);
const QUICK = args.includes('--quick');
const RUNS = Number(flag('runs', QUICK ? 1 : 3));
const SECONDS = Number(flag('seconds', QUICK ? 2 : 5));
const CLIENTS = Number(flag('clients', 8));
const MAX_CONNECTIONS = Number(flag('max-connections', 20_000));
const JWT_ALG = flag('jwt-alg', 'ES256');
const FROM_SOURCE = args.includes('--from-source');
const WARMUP_CONNECTIONS = 100;
const CONNECTION_TIMEOUT_MS = 10_000;
const LOGIN_WAIT_MS = 60_000;
const USER = 'bench';
const PASSWORD = randomBytes(18).toString('base64url');
const JWT_ISSUER = 'https://auth-bench.invalid';
const JWT_AUDIENCE = 'streambus-auth-bench';
const work = mkdtempSync(join(tmpdir(), 'streambus-auth-bench-'));
const log = (...m) => console.error('[auth-bench]', ...m);

/**
 * The setups: the broker's environment (besides TLS), whether the broker has TLS and asks for client
 * certificates, and the SASL mechanism the client uses (none: the connection is authenticated by its
 * certificate or not at all).
 */
const SETUPS = {
  plaintext: { tls: false },
  tls: { tls: true },
  mtls: { tls: true, clientCert: true, env: { STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'mtls' } },
  'scram-sha-256': { tls: true, sasl: 'SCRAM-SHA-256', env: { STREAMBUS_SECURITY_AUTHENTICATION_METHODS: 'scram-sha-256,scram-sha-512' } },
  'scram-sha-512': { tls: true, sasl: 'SCRAM-SHA-512', env: { STREAMBUS_SECURITY_AUTHENTICATION_METHODS: 'scram-sha-256,scram-sha-512' } },
  plain: { tls: true, sasl: 'PLAIN', env: { STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'plain' } },
  oauthbearer: { tls: true, sasl: 'OAUTHBEARER', env: { STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'jwt' } },
};
const SETUP_NAMES = flag('setups', Object.keys(SETUPS).join(',')).split(',');
for (const name of SETUP_NAMES) if (!(name in SETUPS)) throw new Error(`unknown setup ${name} (known: ${Object.keys(SETUPS).join(', ')})`);
if (!SETUP_NAMES.includes('plaintext')) throw new Error('the setups must include plaintext, the baseline of the ratios');

const saslRequests = (conn) => ({
  handshake: (mechanism) => conn.request(API_KEYS.SaslHandshake, 1, { mechanism }, CONNECTION_TIMEOUT_MS),
  authenticate: (authBytes) => conn.request(API_KEYS.SaslAuthenticate, 2, { authBytes }, CONNECTION_TIMEOUT_MS),
});

/** SASL OAUTHBEARER (RFC 7628's client message with the token; the broker's answer is empty on success). */
async function oauthBearer(conn, token) {
  const send = saslRequests(conn);
  const handshake = await send.handshake('OAUTHBEARER');
  if (handshake.errorCode !== 0) throw new Error(`OAUTHBEARER not offered (error ${handshake.errorCode}; offered: ${handshake.mechanisms.join(', ')})`);
  const r = await send.authenticate(Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`, 'utf8'));
  if (r.errorCode !== 0) throw new Error(`OAUTHBEARER refused: ${r.errorMessage ?? r.errorCode}`);
}

/** One connection: open (TCP, TLS), authenticate, Metadata, close. Returns ms until the Metadata answer. */
async function oneConnection(target) {
  const started = performance.now();
  const conn = target.tlsOptions === null ? await RawKafka.connect(target.port, CONNECTION_TIMEOUT_MS) : await RawKafka.connectTls(target.port, target.tlsOptions, CONNECTION_TIMEOUT_MS);
  try {
    if (target.sasl === 'OAUTHBEARER') await oauthBearer(conn, target.token);
    else if (target.sasl !== undefined) await saslAuthenticate(saslRequests(conn), { mechanism: target.sasl, username: USER, password: PASSWORD }, `127.0.0.1:${target.port}`);
    const metadata = await conn.request(API_KEYS.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, CONNECTION_TIMEOUT_MS);
    if (metadata.brokers.length === 0) throw new Error('Metadata answered without brokers');
    return performance.now() - started;
  } finally {
    conn.close();
  }
}

/**
 * CLIENTS concurrent loops of connections until `seconds` have passed or `maxConnections` have been
 * started; failures are counted (the first kept), not retried.
 */
async function load(target, seconds, maxConnections) {
  const latencies = [];
  let started = 0;
  let failures = 0;
  let firstFailure = null;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline && started < maxConnections) {
      started++;
      try {
        latencies.push(await oneConnection(target));
      } catch (err) {
        failures++;
        firstFailure ??= String(err?.message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  return { latencies, failures, firstFailure, seconds: (performance.now() - t0) / 1000 };
}

/** Tries single connections until one succeeds (the bootstrap SCRAM user is stored shortly after start). */
async function waitForLogin(target) {
  const deadline = Date.now() + LOGIN_WAIT_MS;
  for (;;) {
    try {
      await oneConnection(target);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no login within ${LOGIN_WAIT_MS / 1000} s: ${err.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function jwtMaterial() {
  const { publicKey, privateKey } = await generateKeyPair(JWT_ALG, { extractable: true });
  const keyFile = join(work, 'jwt-public.pem');
  writeFileSync(keyFile, await exportSPKI(publicKey));
  // One token for every connection, as a client reuses its token until it nears expiry.
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: JWT_ALG })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(USER)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { keyFile, token };
}

function brokerEnv(setup, certs, jwt) {
  const env = { STREAMBUS_STORAGE_SYNC_INTERVAL: '1s' };
  if (!setup.tls) return env;
  Object.assign(env, tlsBrokerEnv(certs, setup.clientCert === true));
  if (setup.env === undefined) return env;
  Object.assign(env, setup.env, { STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true' });
  if (setup.sasl === 'OAUTHBEARER') {
    Object.assign(env, {
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_KEY_FILE: jwt.keyFile,
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_ISSUER: JWT_ISSUER,
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_AUDIENCE: JWT_AUDIENCE,
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_ALGORITHMS: JWT_ALG,
    });
  } else if (setup.sasl !== undefined) {
    Object.assign(env, {
      STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_USER: USER,
      STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_PASSWORD: PASSWORD,
    });
  }
  return env;
}

/** One TLS context for all of a setup's connections, as a client keeps one (no session resumption: every handshake is full). */
function clientTlsOptions(setup, certs) {
  if (!setup.tls) return null;
  const ca = readFileSync(certs.ca);
  return { secureContext: createSecureContext(setup.clientCert ? { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) } : { ca }) };
}

/** The broker running now, stopped on SIGINT / SIGTERM too. */
let liveBroker = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    liveBroker?.proc.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}

async function oneRun(name, certs, jwt, run) {
  const setup = SETUPS[name];
  const broker = await startBrokerProcess(`${name}-${run}`, brokerEnv(setup, certs, jwt), join(work, `${name}-${run}`), FROM_SOURCE, setup.tls ? certs.ca : undefined);
  liveBroker = broker;
  try {
    const target = { port: broker.kafkaPort, tlsOptions: clientTlsOptions(setup, certs), sasl: setup.sasl, token: jwt.token };
    await waitForLogin(target);
    const warmup = await load(target, SECONDS, WARMUP_CONNECTIONS);
    if (warmup.failures > 0) throw new Error(`${name}: ${warmup.failures} of the warm-up connections failed: ${warmup.firstFailure}`);
    const brokerCpu0 = procStat(broker.pid);
    const clientCpu0 = process.cpuUsage();
    const r = await load(target, SECONDS, MAX_CONNECTIONS);
    const brokerCpuSeconds = (procStat(broker.pid) - brokerCpu0) / 1e6;
    const clientCpu = process.cpuUsage(clientCpu0);
    const clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
    const n = r.latencies.length;
    if (r.failures > 0) log(`${name}: ${r.failures} connections failed, the first: ${r.firstFailure}`);
    return {
      connections: n,
      failures: r.failures,
      firstFailure: r.firstFailure,
      seconds: r.seconds,
      connectionsPerSec: n / r.seconds,
      p50Ms: percentile(r.latencies, 0.5),
      p99Ms: percentile(r.latencies, 0.99),
      brokerCpuSecondsPer1000: (brokerCpuSeconds / n) * 1000,
      clientCpuSecondsPer1000: (clientCpuSeconds / n) * 1000,
      brokerCpuShare: brokerCpuSeconds / r.seconds,
      clientCpuShare: clientCpuSeconds / r.seconds,
    };
  } finally {
    await broker.stop();
    liveBroker = null;
  }
}

async function main() {
  const startedAt = new Date().toISOString();
  const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const loadAverageAtStart = loadAverage();
  log(`certificates (4096-bit RSA, the guide's openssl commands) and a ${JWT_ALG} key`);
  const certs = makeGuideCertificates(join(work, 'certs'));
  const jwt = await jwtMaterial();
  const runs = Object.fromEntries(SETUP_NAMES.map((name) => [name, []]));
  for (let run = 0; run < RUNS; run++) {
    // Alternate the order, so drift in the machine's load touches every setup alike.
    const order = run % 2 === 0 ? SETUP_NAMES : [...SETUP_NAMES].reverse();
    for (const name of order) {
      const r = await oneRun(name, certs, jwt, run);
      runs[name].push(r);
      log(`run ${run + 1}/${RUNS} ${name}: ${r.connectionsPerSec.toFixed(0)} conn/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, broker ${r.brokerCpuSecondsPer1000.toFixed(2)} CPU s / 1000`);
    }
  }
  const summary = {};
  for (const name of SETUP_NAMES) {
    const med = (key) => median(runs[name].map((r) => r[key]));
    summary[name] = {
      connectionsPerSec: med('connectionsPerSec'),
      p50Ms: med('p50Ms'),
      p99Ms: med('p99Ms'),
      brokerCpuSecondsPer1000: med('brokerCpuSecondsPer1000'),
      clientCpuSecondsPer1000: med('clientCpuSecondsPer1000'),
      // Per run against the plaintext broker of the same run, then the median.
      ratioToPlaintext: median(runs[name].map((r, i) => r.connectionsPerSec / runs.plaintext[i].connectionsPerSec)),
      failures: runs[name].reduce((sum, r) => sum + r.failures, 0),
    };
  }
  const report = {
    tool: 'bench/broker/auth.mjs',
    startedAt,
    ...benchProvenance(FROM_SOURCE),
    loadAverageAtStart,
    loadAverageAtEnd: loadAverage(),
    params: { runs: RUNS, seconds: SECONDS, clients: CLIENTS, maxConnections: MAX_CONNECTIONS, warmupConnections: WARMUP_CONNECTIONS, jwtAlgorithm: JWT_ALG, tlsKeys: 'RSA 4096', scramIterations: 4096, metadataVersion: 12 },
    runs,
    summary,
    finishedAt: new Date().toISOString(),
  };
  log(`wrote ${writeBenchReport('auth', QUICK, report)}`);
}

runBench(main, work);
