/**
 * SCRAM credential administration (KIP-554): DescribeUserScramCredentials and
 * AlterUserScramCredentials, sent to any broker. A new password is salted here (a random salt, Hi with
 * the given iterations), so only the salted password travels, as Kafka's tools do.
 */
import { randomBytes } from 'node:crypto';
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { hashBytes, saltPassword, SCRAM_MECHANISM_NAMES, type ScramHashName } from '../protocol/sasl/scram-math.ts';
import type { ClientCore } from './client-core.ts';
import { errorFor, throwIfError, type KafkaResponseError } from './kafka-error.ts';

/** Kafka's ScramMechanism codes, by name. */
const CODE: Record<ScramHashName, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };
const nameOf = (code: number): string => SCRAM_MECHANISM_NAMES.find((n) => CODE[n] === code) ?? `UNKNOWN(${code})`;

export interface ScramUser {
  user: string;
  credentials: { mechanism: string; iterations: number }[];
}

export interface ScramChange {
  user: string;
  error: KafkaResponseError | null;
}

/** Every user with credentials (no names), or the named ones (an unknown name is an error in its entry). */
export async function describeScramUsers(core: ClientCore, users: readonly string[] = []): Promise<(ScramUser & { error: KafkaResponseError | null })[]> {
  return core.retry(async () => {
    const { body } = await core.request('any', API_KEYS.DescribeUserScramCredentials, () => ({ users: users.length === 0 ? null : users.map((name) => ({ name })) }));
    throwIfError(body.errorCode, 'describe SCRAM users', body.errorMessage);
    return body.results.map((r) => ({
      user: r.user,
      error: errorFor(r.errorCode, `describe SCRAM user ${r.user}`, r.errorMessage),
      credentials: r.credentialInfos.map((c) => ({ mechanism: nameOf(c.mechanism), iterations: c.iterations })),
    }));
  });
}

/** Sets `user`'s password for `mechanism` (a new random salt each time). */
export async function upsertScramUser(core: ClientCore, user: string, mechanism: ScramHashName, password: string, iterations: number): Promise<ScramChange> {
  const salt = randomBytes(hashBytes(mechanism));
  const saltedPassword = await saltPassword(mechanism, password, salt, iterations);
  return alter(core, user, [], [{ name: user, mechanism: CODE[mechanism], iterations, salt, saltedPassword }]);
}

export async function deleteScramUser(core: ClientCore, user: string, mechanism: ScramHashName): Promise<ScramChange> {
  return alter(core, user, [{ name: user, mechanism: CODE[mechanism] }], []);
}

async function alter(
  core: ClientCore,
  user: string,
  deletions: { name: string; mechanism: number }[],
  upsertions: { name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }[],
): Promise<ScramChange> {
  const { body } = await core.retry(() => core.request('any', API_KEYS.AlterUserScramCredentials, () => ({ deletions, upsertions })));
  const r = body.results.find((x) => x.user === user);
  return { user, error: r === undefined ? errorFor(-1, `alter SCRAM user ${user}: the broker's answer did not mention it`) : errorFor(r.errorCode, `alter SCRAM user ${user}`, r.errorMessage) };
}
