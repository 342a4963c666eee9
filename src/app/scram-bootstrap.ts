/**
 * The first SCRAM user (security.authentication.scram.bootstrapUser): stored with the configured
 * password, for each SCRAM mechanism enabled (SCRAM-SHA-512 for PLAIN alone), when the cluster has no
 * credential of that user and mechanism yet. Every broker of a cluster may try; the command applies
 * `ifAbsent`, so the first wins and a password changed later is never put back. Tried in the background
 * until the controller takes it (a cluster may still be electing), for at most a few minutes.
 */
import type { AuthenticationConfig } from '../config/index.ts';
import { enabledAuthenticationMethods } from '../config/index.ts';
import { ScramMechanism, type ScramMechanismName } from '../metadata/scram-credentials.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import { credentialFromSaltedPassword, DEFAULT_SCRAM_ITERATIONS, randomSalt } from '../security/scram.ts';
import { saltPassword } from '../protocol/sasl/scram-math.ts';

const ATTEMPTS = 120;
const RETRY_MS = 1_000;

/** The SCRAM mechanisms clients may use (PLAIN checks passwords against SCRAM-SHA-512 credentials when alone). */
export function scramMechanisms(auth: AuthenticationConfig): ScramMechanismName[] {
  const methods = enabledAuthenticationMethods(auth);
  const scram = (['scram-sha-256', 'scram-sha-512'] as const).filter((m) => methods.includes(m)).map((m) => m.toUpperCase() as ScramMechanismName);
  return scram.length === 0 && methods.includes('plain') ? ['SCRAM-SHA-512'] : scram;
}

export async function bootstrapScramUser(auth: AuthenticationConfig, metadata: () => MetadataService, log: Logger, stopped: () => boolean): Promise<void> {
  const user = auth.scram.bootstrapUser;
  if (user === '') return;
  // Salted only for mechanisms not stored yet: once the user exists, a restart costs no PBKDF2.
  const absent = scramMechanisms(auth).filter((m) => metadata().state.scramCredential(user, ScramMechanism[m]) === undefined);
  if (absent.length === 0) return;
  const credentials = await Promise.all(
    absent.map(async (mechanism) => {
      const salt = randomSalt(mechanism);
      return credentialFromSaltedPassword(user, mechanism, salt, DEFAULT_SCRAM_ITERATIONS, await saltPassword(mechanism, auth.scram.bootstrapPassword, salt, DEFAULT_SCRAM_ITERATIONS));
    }),
  );
  for (let attempt = 1; attempt <= ATTEMPTS && !stopped(); attempt++) {
    const missing = credentials.filter((c) => metadata().state.scramCredential(user, c.mechanism) === undefined);
    if (missing.length === 0) return;
    const result = await metadata().submit({ type: 'upsert-scram-credentials', credentials: missing, ifAbsent: true }, 10_000);
    if (result.error === null) {
      log.info({ user, mechanisms: missing.map((c) => c.mechanism) }, 'bootstrap SCRAM user stored');
      return;
    }
    if (result.error !== 'NOT_CONTROLLER' && result.error !== 'REQUEST_TIMED_OUT') {
      log.error({ user, error: result.error, message: result.message }, 'bootstrap SCRAM user refused');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  if (!stopped()) log.error({ user }, 'bootstrap SCRAM user not stored: the controller did not take it');
}
