/**
 * AlterUserScramCredentials (51), version 0 (AlterUserScramCredentialsRequest.json): deletes and stores
 * SCRAM credentials (KIP-554). The client sends the salt and the salted password; the broker keeps only
 * what the server side needs (StoredKey and ServerKey, security/scram.ts) in the cluster metadata. One
 * result per user, with Kafka's codes: DUPLICATE_RESOURCE for a user named twice (in either list),
 * UNSUPPORTED_SASL_MECHANISM, UNACCEPTABLE_CREDENTIAL (empty name or salt, iterations outside
 * 4096..16384), RESOURCE_NOT_FOUND for deleting what is not stored. With authorization it needs ALTER
 * on the cluster.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { scramCredentialProblem, scramMechanismName, type ScramCredential } from '../../metadata/scram-credentials.ts';
import { credentialFromSaltedPassword } from '../../security/scram.ts';
import type { Handler } from '../handler.ts';
import { clusterAllowed, Op, requester } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';

type Result = { user: string; errorCode: number; errorMessage: string | null };

export const alterUserScramCredentials: Handler<51> = async (ctx, request, info) => {
  const users = [...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)];
  const distinct = [...new Set(users)];
  if (!clusterAllowed(ctx, info, Op.ALTER)) {
    return { throttleTimeMs: 0, results: distinct.map((user) => ({ user, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'ALTER on the cluster is needed to change SCRAM credentials.' })) };
  }
  const results = new Map<string, Result>();
  for (const user of distinct) {
    if (users.indexOf(user) !== users.lastIndexOf(user)) results.set(user, { user, errorCode: KafkaErrorCode.DUPLICATE_RESOURCE, errorMessage: `A user credential cannot be altered twice in the same request: ${user}` });
  }
  const state = ctx.metadata.state;
  const deletions: { user: string; mechanism: number }[] = [];
  for (const d of request.deletions) {
    if (results.has(d.name)) continue;
    if (scramMechanismName(d.mechanism) === undefined) results.set(d.name, { user: d.name, errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: `Unknown SCRAM mechanism ${d.mechanism}.` });
    else if (state.scramCredential(d.name, d.mechanism) === undefined) results.set(d.name, { user: d.name, errorCode: KafkaErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to delete a user credential that does not exist: ${d.name}` });
    else deletions.push({ user: d.name, mechanism: d.mechanism });
  }
  const upsertions: ScramCredential[] = [];
  for (const u of request.upsertions) {
    if (results.has(u.name)) continue;
    const mechanism = scramMechanismName(u.mechanism);
    if (mechanism === undefined) {
      results.set(u.name, { user: u.name, errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: `Unknown SCRAM mechanism ${u.mechanism}.` });
      continue;
    }
    if (u.salt.length === 0 || u.saltedPassword.length === 0) {
      results.set(u.name, { user: u.name, errorCode: KafkaErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: 'The salt and the salted password must not be empty.' });
      continue;
    }
    const credential = credentialFromSaltedPassword(u.name, mechanism, u.salt, u.iterations, u.saltedPassword);
    const problem = scramCredentialProblem(credential);
    if (problem) results.set(u.name, { user: u.name, errorCode: KafkaErrorCode[problem.error], errorMessage: problem.message });
    else upsertions.push(credential);
  }
  const principal = requester(info.connection).principal;
  for (const [cmd, affected] of [
    [{ type: 'delete-scram-credentials' as const, credentials: deletions }, deletions.map((d) => d.user)],
    [{ type: 'upsert-scram-credentials' as const, credentials: upsertions, ifAbsent: false }, upsertions.map((c) => c.user)],
  ] as const) {
    if (affected.length === 0) continue;
    const r = await ctx.metadata.submit(cmd);
    for (const user of affected) results.set(user, { user, errorCode: metadataErrorCode(r.error), errorMessage: r.message ?? null });
    // Names only: salts, keys and passwords never reach the log.
    if (r.error === null) ctx.log.info({ principal, users: affected }, cmd.type === 'delete-scram-credentials' ? 'SCRAM credentials deleted' : 'SCRAM credentials stored');
  }
  return { throttleTimeMs: 0, results: distinct.map((user) => results.get(user)!) };
};
