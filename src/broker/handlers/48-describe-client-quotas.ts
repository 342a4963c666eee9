/**
 * DescribeClientQuotas (48), versions 0-1 (DescribeClientQuotasRequest.json): the client quotas stored
 * in the cluster metadata whose entity matches the filter (metadata/client-quotas.ts). Each component
 * matches a type by exact name (match type 0), its default entity (1) or any entity of that type (2);
 * `strict` also excludes entities with other types. Needs DESCRIBE_CONFIGS on the cluster, as Kafka.
 */
import { matchQuotas, type QuotaFilterComponent } from '../../metadata/client-quotas.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { clusterAllowed, Op } from '../access.ts';
import type { Handler } from '../handler.ts';

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_ANY = 2;

export const describeClientQuotas: Handler<48> = (ctx, request, info) => {
  const refuse = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, entries: null });
  if (!clusterAllowed(ctx, info, Op.DESCRIBE_CONFIGS)) return refuse(KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'DESCRIBE_CONFIGS on the cluster is needed to read client quotas.');
  const components: QuotaFilterComponent[] = [];
  for (const c of request.components) {
    if (components.some((x) => x.type === c.entityType)) return refuse(KafkaErrorCode.INVALID_REQUEST, `Duplicate filter component entity type ${c.entityType}.`);
    if (c.entityType.length === 0) return refuse(KafkaErrorCode.INVALID_REQUEST, 'A filter component needs an entity type.');
    if (c.matchType === MATCH_EXACT) {
      if (c.match === null) return refuse(KafkaErrorCode.INVALID_REQUEST, `An exact match on ${c.entityType} needs a name.`);
      components.push({ type: c.entityType, match: { kind: 'exact', name: c.match } });
    } else if (c.matchType === MATCH_DEFAULT) components.push({ type: c.entityType, match: { kind: 'default' } });
    else if (c.matchType === MATCH_ANY) components.push({ type: c.entityType, match: { kind: 'any' } });
    else return refuse(KafkaErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}.`);
  }
  const entries = matchQuotas(ctx.metadata.state.clientQuotas(), components, request.strict).map((r) => ({
    entity: r.entity.map((p) => ({ entityType: p.type, entityName: p.name })),
    values: Object.entries(r.values).map(([key, value]) => ({ key, value: value! })),
  }));
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, entries };
};
