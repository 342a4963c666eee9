/**
 * Checks of the security settings that need the security layer's parsers, made before a broker starts
 * (`streambus broker`) and by `config validate`: the principal mapping rules parse, and with
 * --check-files (always for a broker) the TLS certificate, key and CA pass tls-material.ts's checks.
 * Each problem names the key, where it was set, and what is wrong; the broker exits 2 on any.
 */
import { configOrigin, enabledAuthenticationMethods, type BrokerConfig, type ConfigProblem, type KeyPath } from '../config/index.ts';
import { valueProblem } from '../config/config-error.ts';
import { parsePrincipalRules } from '../security/principal-rules.ts';
import { loadTlsMaterial, TlsMaterialError } from '../security/tls-material.ts';
import { jwtKeyFileProblem } from '../security/jwt-verifier.ts';
import { parseSuperUsers } from '../security/authorizer.ts';
import { TENANT_NAME, TENANT_NAME_RULE } from '../metadata/client-quotas.ts';
import { readFileSync } from 'node:fs';

const EXPECTED = {
  'security.tls.certFile': 'a valid PEM certificate (chain)',
  'security.tls.keyFile': 'the PEM private key of the certificate',
  'security.tls.caFile': 'the PEM CA bundle that signed the certificate',
  'security.tls.keyPassphrase': 'the passphrase of the key',
} as const;

/**
 * The key that makes the broker rely on client certificates (mtls, clientAuthRequired, or mutual TLS
 * between the brokers of a cluster), or null when TLS does not.
 */
function clientCertificateKey(config: BrokerConfig): KeyPath | null {
  if (!config.security.tls.enabled) return null;
  if (config.security.tls.clientAuthRequired) return 'security.tls.clientAuthRequired';
  if (enabledAuthenticationMethods(config.security.authentication).includes('mtls')) return 'security.authentication.method';
  if (config.cluster.nodes.some((n) => n.id !== config.server.brokerId)) return 'security.tls.enabled';
  return null;
}

/** `runtime`: where the broker will run ('deno' brings the check above); defaults to the current one. */
export function securityProblems(config: BrokerConfig, options: { files: boolean; now?: Date; runtime?: 'node' | 'bun' | 'deno' }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ruleLists = [
    ['security.authentication.mtls.principalMappingRules', config.security.authentication.mtls.principalMappingRules],
    ['multiTenancy.principalMappingRules', config.multiTenancy.principalMappingRules],
  ] as const;
  for (const [key, rules] of ruleLists) {
    try {
      parsePrincipalRules(rules);
    } catch (err) {
      problems.push(valueProblem(configOrigin(config, key), key, 'principal mapping rules (RULE:pattern/replacement/[LU], DEFAULT, comma-separated)', JSON.stringify(rules), (err as Error).message));
    }
  }
  const defaultTenant = config.multiTenancy.defaultTenant;
  if (defaultTenant !== '' && !TENANT_NAME.test(defaultTenant)) {
    const key = 'multiTenancy.defaultTenant';
    problems.push(valueProblem(configOrigin(config, key), key, `a tenant name (${TENANT_NAME_RULE}) or ""`, JSON.stringify(defaultTenant), 'not a tenant name'));
  }
  const superUsers = parseSuperUsers(config.security.authorization.superUsers);
  if ('problem' in superUsers) {
    const key = 'security.authorization.superUsers';
    problems.push(valueProblem(configOrigin(config, key), key, 'principals separated by ; (User:admin;User:ops)', JSON.stringify(config.security.authorization.superUsers), superUsers.problem));
  }
  const auth = config.security.authentication;
  if (options.files && enabledAuthenticationMethods(auth).includes('jwt') && auth.jwt.keyFile !== '') {
    const key = 'security.authentication.jwt.keyFile';
    let problem: string | null;
    try {
      problem = jwtKeyFileProblem(readFileSync(auth.jwt.keyFile, 'utf8'));
    } catch (err) {
      problem = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    }
    if (problem !== null) problems.push(valueProblem(configOrigin(config, key), key, 'a PEM public key or JWKS file', JSON.stringify(auth.jwt.keyFile), problem));
  }
  const clientCertificates = clientCertificateKey(config);
  const runtime = options.runtime ?? ('Deno' in globalThis ? 'deno' : 'node');
  if (runtime === 'deno' && clientCertificates !== null) {
    // Deno's node:tls server neither presents nor checks peer certificates, so every such client
    // (and every peer broker) would be refused: say so at start instead.
    problems.push(
      valueProblem(configOrigin(config, clientCertificates), clientCertificates, 'false under Deno', JSON.stringify(true), "Deno's TLS server does not take client certificates; run this configuration with Node.js, Bun or the single binary"),
    );
  }
  if (options.files && config.security.tls.enabled) {
    try {
      loadTlsMaterial(config.security.tls, options.now);
    } catch (err) {
      if (!(err instanceof TlsMaterialError)) throw err;
      for (const p of err.problems) problems.push(valueProblem(configOrigin(config, p.key), p.key, EXPECTED[p.key], JSON.stringify(p.file), p.problem));
    }
  }
  return problems;
}
