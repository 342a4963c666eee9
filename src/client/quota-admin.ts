/**
 * Client quota administration (KIP-546): DescribeClientQuotas and AlterClientQuotas, sent to any
 * broker. An entity is a list of parts (`user`, `client-id`), each named or the default (null).
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore } from './client-core.ts';
import { errorFor, throwIfError, type KafkaResponseError } from './kafka-error.ts';

export interface QuotaEntityPart {
  type: string;
  /** null: the default entity of that type. */
  name: string | null;
}

export interface QuotaEntry {
  entity: QuotaEntityPart[];
  values: Record<string, number>;
}

/** How a DescribeClientQuotas component matches its type: a name, the default, or any. */
export type QuotaMatch = { type: string; name: string } | { type: string; default: true } | { type: string; any: true };

export async function describeClientQuotas(core: ClientCore, filter: readonly QuotaMatch[], strict: boolean): Promise<QuotaEntry[]> {
  return core.retry(async () => {
    const components = filter.map((m) => ('name' in m ? { entityType: m.type, matchType: 0, match: m.name } : 'default' in m ? { entityType: m.type, matchType: 1, match: null } : { entityType: m.type, matchType: 2, match: null }));
    const { body } = await core.request('any', API_KEYS.DescribeClientQuotas, () => ({ components, strict }));
    throwIfError(body.errorCode, 'describe client quotas', body.errorMessage);
    return (body.entries ?? []).map((e) => ({ entity: e.entity.map((p) => ({ type: p.entityType, name: p.entityName })), values: Object.fromEntries(e.values.map((v) => [v.key, v.value])) }));
  });
}

/** Sets (a number) or removes (null) each quota of `changes` for `entity`. */
export async function alterClientQuotas(core: ClientCore, entity: readonly QuotaEntityPart[], changes: Readonly<Record<string, number | null>>, validateOnly = false): Promise<KafkaResponseError | null> {
  const ops = Object.entries(changes).map(([key, value]) => ({ key, value: value ?? 0, remove: value === null }));
  const { body } = await core.retry(() =>
    core.request('any', API_KEYS.AlterClientQuotas, () => ({ entries: [{ entity: entity.map((p) => ({ entityType: p.type, entityName: p.name })), ops }], validateOnly })),
  );
  const r = body.entries[0];
  return r === undefined ? errorFor(-1, 'alter client quotas: the broker\'s answer named no entity') : errorFor(r.errorCode, 'alter client quotas', r.errorMessage);
}
