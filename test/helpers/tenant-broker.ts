/**
 * A broker with multi-tenancy behind TLS and JWT (SASL OAUTHBEARER), for the tenancy tests: tokens are
 * signed here with a key the broker trusts (as test/security/sasl-oauthbearer.test.ts does), the
 * tenant named by their `tenant` claim; `User:admin` is a super user, also reachable over SCRAM as the
 * bootstrap admin (for the CLI). SCRAM users the tests create (createScramUser) get their tenant from
 * `multiTenancy.principalMappingRules` when a test sets it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { httpsGet, startBroker, type BrokerProcess } from './broker-process.ts';
import { makeTestCerts, type TestCerts } from './certs.ts';
import { RawKafka } from './raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { saltPassword } from '../../src/protocol/sasl/scram-math.ts';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'streambus-tenants';
export const ADMIN_PASSWORD = 'admin-secret-pw';

export class TenantBroker {
  private readonly open: RawKafka[] = [];

  private constructor(
    readonly broker: BrokerProcess,
    readonly certs: TestCerts,
    private readonly signingKey: CryptoKey,
  ) {}

  /** Starts the broker with multi-tenancy on and `env` added (the default quotas, say). */
  static async start(env: Record<string, string>): Promise<TenantBroker> {
    const certs = makeTestCerts();
    const pair = await generateKeyPair('RS256');
    const keyFile = join(certs.dir, 'jwt-public.pem');
    writeFileSync(keyFile, await exportSPKI(pair.publicKey));
    const broker = await startBroker({
      httpsCa: certs.ca,
      env: {
        STREAMBUS_SECURITY_TLS_ENABLED: 'true',
        STREAMBUS_SECURITY_TLS_CERT_FILE: certs.brokerCert,
        STREAMBUS_SECURITY_TLS_KEY_FILE: certs.brokerKey,
        STREAMBUS_SECURITY_TLS_CA_FILE: certs.ca,
        STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true',
        STREAMBUS_SECURITY_AUTHENTICATION_METHODS: 'jwt,scram-sha-512',
        STREAMBUS_SECURITY_AUTHENTICATION_JWT_KEY_FILE: keyFile,
        STREAMBUS_SECURITY_AUTHENTICATION_JWT_ISSUER: ISSUER,
        STREAMBUS_SECURITY_AUTHENTICATION_JWT_AUDIENCE: AUDIENCE,
        STREAMBUS_SECURITY_AUTHENTICATION_JWT_ALGORITHMS: 'RS256',
        STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_USER: 'admin',
        STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_PASSWORD: ADMIN_PASSWORD,
        STREAMBUS_SECURITY_AUTHENTICATION_FAILED_ATTEMPT_DELAY: '0',
        STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'User:admin',
        STREAMBUS_MULTI_TENANCY_ENABLED: 'true',
        ...env,
      },
    });
    return new TenantBroker(broker, certs, pair.privateKey);
  }

  async stop(): Promise<void> {
    this.closeAll();
    await this.broker.stop();
    this.certs.remove();
  }

  closeAll(): void {
    for (const c of this.open.splice(0)) c.close();
  }

  token(subject: string, claims: Record<string, unknown>): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject(subject).setIssuedAt().setExpirationTime('10m').sign(this.signingKey);
  }

  /** A TLS connection that authenticated with OAUTHBEARER as `subject`: the connection, or the SaslAuthenticate refusal. */
  async session(subject: string, claims: Record<string, unknown>): Promise<{ conn: RawKafka } | { errorCode: number; errorMessage: string | null }> {
    const conn = await RawKafka.connectTls(this.broker.kafkaPort, { ca: readFileSync(this.certs.ca) });
    this.open.push(conn);
    const hs = await conn.request(API_KEYS.SaslHandshake, 1, { mechanism: 'OAUTHBEARER' });
    assert.equal(hs.errorCode, 0);
    const auth = await conn.request(API_KEYS.SaslAuthenticate, 1, { authBytes: Buffer.from(`n,,\x01auth=Bearer ${await this.token(subject, claims)}\x01\x01`) });
    if (auth.errorCode !== 0) {
      conn.close();
      return { errorCode: auth.errorCode, errorMessage: auth.errorMessage };
    }
    return { conn };
  }

  /** As session, failing the test on a refusal. */
  async connected(subject: string, claims: Record<string, unknown>): Promise<RawKafka> {
    const s = await this.session(subject, claims);
    assert.ok('conn' in s, `${subject}: ${JSON.stringify(s)}`);
    return s.conn;
  }

  /** Sets (a number) or removes (null) a tenant quota through AlterClientQuotas on `admin` (a super user's connection). */
  static async setTenantQuota(admin: RawKafka, tenant: string | null, key: string, value: number | null): Promise<void> {
    const res = await admin.request(API_KEYS.AlterClientQuotas, 1, { entries: [{ entity: [{ entityType: 'tenant', entityName: tenant }], ops: [{ key, value: value ?? 0, remove: value === null }] }], validateOnly: false });
    assert.deepEqual(res.entries.map((e) => e.errorCode), [0], res.entries[0]?.errorMessage ?? '');
  }

  /** Creates (or re-keys) SCRAM-SHA-512 user `name` through AlterUserScramCredentials on `admin` (a super user's connection). */
  static async createScramUser(admin: RawKafka, name: string, password: string): Promise<void> {
    const salt = randomBytes(64);
    const saltedPassword = await saltPassword('SCRAM-SHA-512', password, salt, 4096);
    // Mechanism 2 is SCRAM-SHA-512 in Kafka's ScramMechanism codes.
    const res = await admin.request(API_KEYS.AlterUserScramCredentials, 0, { deletions: [], upsertions: [{ name, mechanism: 2, iterations: 4096, salt, saltedPassword }] });
    assert.deepEqual(res.results.map((r) => [r.user, r.errorCode]), [[name, 0]], res.results[0]?.errorMessage ?? '');
  }

  /** The broker's metrics, without the broker_id label every series carries. */
  async metricsText(): Promise<string> {
    return (await httpsGet(this.broker.httpPort, '/metrics', { ca: this.certs.ca })).body.replace(/,?broker_id="[^"]*"/g, '').replace(/\{\}/g, '');
  }
}

/** The value of the series `line` (name and labels) in a metrics text. */
export function metricValue(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.split(' ').pop());
}
