/**
 * DescribeUserScramCredentials (50), version 0 (DescribeUserScramCredentialsRequest.json): each user's
 * SCRAM mechanisms and iteration counts (never salts or keys); all users when none are named.
 * RESOURCE_NOT_FOUND for a named user without credentials, DUPLICATE_RESOURCE for a name given twice.
 * With authorization it needs DESCRIBE on the cluster.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { ScramCredential } from '../../metadata/scram-credentials.ts';
import type { Handler } from '../handler.ts';
import { clusterAllowed, Op } from '../access.ts';

const infos = (credentials: readonly ScramCredential[]) => credentials.map((c) => ({ mechanism: c.mechanism, iterations: c.iterations }));

export const describeUserScramCredentials: Handler<50> = (ctx, request, info) => {
  if (!clusterAllowed(ctx, info, Op.DESCRIBE)) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'DESCRIBE on the cluster is needed to list SCRAM users.', results: [] };
  }
  const state = ctx.metadata.state;
  if (request.users === null || request.users.length === 0) {
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: state.scramUsers().map((u) => ({ user: u.user, errorCode: 0, errorMessage: null, credentialInfos: infos(u.credentials) })) };
  }
  const names = request.users.map((u) => u.name);
  const known = new Map(state.scramUsers().map((u) => [u.user, u.credentials]));
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    results: [...new Set(names)].map((user) => {
      if (names.indexOf(user) !== names.lastIndexOf(user)) return { user, errorCode: KafkaErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
      const credentials = known.get(user);
      if (credentials === undefined) return { user, errorCode: KafkaErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
      return { user, errorCode: 0, errorMessage: null, credentialInfos: infos(credentials) };
    }),
  };
};
