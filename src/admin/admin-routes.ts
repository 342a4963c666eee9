/**
 * The admin API's topic, consumer group and cluster routes (docs/admin-api.md, docs/openapi.yaml): each
 * reads its parameters, runs the operation the CLI runs (topic-, group- and cluster-operations.ts) on a
 * loopback client acting as the caller, and answers the operation's JSON shape or its failure
 * (admin-answer.ts). The broker routes are app/cluster-admin.ts.
 */
import type { ConfigOperation, KafkaClient } from '../client/index.ts';
import type { AdminAnswer, AdminCaller, AdminMethod, AdminRequest, AdminRoute } from '../http/admin-api.ts';
import { errorAnswer } from '../http/admin-api.ts';
import { failureAnswer } from './admin-answer.ts';
import type { BrokerStatus } from './broker-status.ts';
import { clusterStatus } from './cluster-operations.ts';
import { deleteGroup, describeGroup, listGroups, resetGroupOffsets, type ResetTarget } from './group-operations.ts';
import { AdminError } from './admin-error.ts';
import { objectBody, onlyFields, optionalBoolean, optionalInteger, optionalIntegerArray, optionalStringArray, optionalStringMap, queryFlag, requiredString } from './request-fields.ts';
import { addPartitions, alterTopicConfigs, createTopic, deleteTopic, describeTopic, listTopics, topicConfigs } from './topic-operations.ts';

export interface KafkaRoutesDeps {
  /** A client acting as the caller (loopback-client.ts); closed after each request. */
  clientFor(caller: AdminCaller): KafkaClient;
  /** The broker list of app/cluster-admin.ts, for the cluster status's broker states. */
  brokerStates(): readonly BrokerStatus[];
}

type Operation = (client: KafkaClient, r: AdminRequest) => Promise<AdminAnswer>;

const ok = (body: unknown): AdminAnswer => ({ status: 200, body });

export function kafkaAdminRoutes(deps: KafkaRoutesDeps): AdminRoute[] {
  const route = (method: AdminMethod, path: string, operation: Operation): AdminRoute => ({
    method,
    path,
    async handle(r) {
      let client: KafkaClient | null = null;
      try {
        client = deps.clientFor(r.caller);
        return await operation(client, r);
      } catch (err) {
        const answer = failureAnswer(err);
        if (answer === null) throw err;
        return answer;
      } finally {
        client?.close();
      }
    },
  });
  return [
    route('GET', '/api/v1/cluster', async (c) => ok(await clusterStatus(c, deps.brokerStates()))),
    route('GET', '/api/v1/topics', async (c, r) => ok(await listTopics(c, queryFlag(r.query, 'includeInternal')))),
    route('POST', '/api/v1/topics', async (c, r) => {
      const f = objectBody(r.body);
      onlyFields(f, ['name', 'partitions', 'replicationFactor', 'configs', 'ifNotExists']);
      const created = await createTopic(c, {
        name: requiredString(f, 'name'),
        partitions: optionalInteger(f, 'partitions', 1) ?? -1,
        replicationFactor: optionalInteger(f, 'replicationFactor', 1) ?? -1,
        configs: optionalStringMap(f, 'configs'),
        ifNotExists: optionalBoolean(f, 'ifNotExists') ?? false,
      });
      return { status: created.created ? 201 : 200, body: created };
    }),
    route('GET', '/api/v1/topics/{name}', async (c, r) => ok(await describeTopic(c, r.params.name!))),
    route('DELETE', '/api/v1/topics/{name}', async (c, r) => ok(await deleteTopic(c, r.params.name!, queryFlag(r.query, 'ifExists')))),
    route('GET', '/api/v1/topics/{name}/configs', async (c, r) => ok({ name: r.params.name!, configs: await topicConfigs(c, r.params.name!) })),
    route('PATCH', '/api/v1/topics/{name}/configs', async (c, r) => {
      const f = objectBody(r.body);
      onlyFields(f, ['set', 'delete']);
      const ops: ConfigOperation[] = [
        ...Object.entries(optionalStringMap(f, 'set')).map(([name, value]) => ({ op: 'set' as const, name, value })),
        ...optionalStringArray(f, 'delete').map((name) => ({ op: 'delete' as const, name })),
      ];
      return ok(await alterTopicConfigs(c, r.params.name!, ops));
    }),
    route('POST', '/api/v1/topics/{name}/partitions', async (c, r) => {
      const f = objectBody(r.body);
      onlyFields(f, ['count']);
      const count = optionalInteger(f, 'count', 1);
      if (count === undefined) return errorAnswer(400, 'SB_ERR_INVALID_REQUEST', 'INVALID_FIELD', '"count" (the new total partition count) is required');
      return ok(await addPartitions(c, r.params.name!, count));
    }),
    route('GET', '/api/v1/groups', async (c) => ok(await listGroups(c))),
    route('GET', '/api/v1/groups/{group}', async (c, r) => ok(await describeGroup(c, r.params.group!))),
    route('DELETE', '/api/v1/groups/{group}', async (c, r) => ok(await deleteGroup(c, r.params.group!))),
    route('POST', '/api/v1/groups/{group}/offsets/reset', async (c, r) => {
      const f = objectBody(r.body);
      onlyFields(f, ['topic', 'partitions', 'to', 'offset', 'execute']);
      const partitions = optionalIntegerArray(f, 'partitions', 0);
      return ok(
        await resetGroupOffsets(c, {
          groupId: r.params.group!,
          topic: requiredString(f, 'topic'),
          ...(partitions === undefined ? {} : { partitions }),
          target: resetTarget(f),
          execute: optionalBoolean(f, 'execute') ?? false,
        }),
      );
    }),
  ];
}

/** `"to": "earliest" | "latest" | "offset"` (with `"offset": N`). */
function resetTarget(f: Readonly<Record<string, unknown>>): ResetTarget {
  const to = f.to;
  const offset = optionalInteger(f, 'offset', 0);
  if (to === 'earliest' || to === 'latest') {
    if (offset !== undefined) throw new AdminError('SB_ERR_INVALID_REQUEST', 'INVALID_FIELD', `"offset" goes only with "to": "offset"`);
    return { to };
  }
  if (to === 'offset') {
    if (offset === undefined) throw new AdminError('SB_ERR_INVALID_REQUEST', 'INVALID_FIELD', '"to": "offset" needs "offset": N');
    return { to, offset: BigInt(offset) };
  }
  throw new AdminError('SB_ERR_INVALID_REQUEST', 'INVALID_FIELD', '"to" must be "earliest", "latest" or "offset"');
}
