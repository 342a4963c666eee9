/**
 * Checks that a value received from another broker (a command forwarded to the controller) has the
 * shape of a MetadataCommand, field by field, before anything reads it: ClusterState.validate checks
 * what a command means and trusts its types. A malformed command is refused with the reason, never
 * asserted on.
 */
import type { MetadataCommand } from './cluster-state.ts';

type Check = (v: unknown) => boolean;

const isInt: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const isString: Check = (v) => typeof v === 'string';
const isStringOrNull: Check = (v) => v === null || typeof v === 'string';
const isIntList: Check = (v) => Array.isArray(v) && v.every(isInt);
const isAssignments: Check = (v) => Array.isArray(v) && v.every(isIntList);
const isMoves: Check = (v) =>
  Array.isArray(v) &&
  v.every((m) => typeof m === 'object' && m !== null && Object.keys(m).length === 2 && isInt((m as { index?: unknown }).index) && ((m as { replicas?: unknown }).replicas === null || isIntList((m as { replicas?: unknown }).replicas)));
const isStringList: Check = (v) => Array.isArray(v) && v.every(isString);
const isStringMap: Check = (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(isString);

const ACL_FIELDS: Record<string, Check> = {
  resourceType: isInt,
  resourceName: isString,
  patternType: isInt,
  principal: isString,
  host: isString,
  operation: isInt,
  permission: isInt,
};
const isBindings: Check = (v) =>
  Array.isArray(v) &&
  v.every((b) => typeof b === 'object' && b !== null && Object.keys(b).length === 7 && Object.entries(ACL_FIELDS).every(([key, check]) => check((b as Record<string, unknown>)[key])));

const SCRAM_FIELDS: Record<string, Check> = { user: isString, mechanism: isInt, iterations: isInt, salt: isString, storedKey: isString, serverKey: isString };
const isScramCredentials: Check = (v) =>
  Array.isArray(v) && v.every((c) => typeof c === 'object' && c !== null && Object.keys(c).length === 6 && Object.entries(SCRAM_FIELDS).every(([key, check]) => check((c as Record<string, unknown>)[key])));
const isScramNames: Check = (v) =>
  Array.isArray(v) && v.every((c) => typeof c === 'object' && c !== null && Object.keys(c).length === 2 && isString((c as { user?: unknown }).user) && isInt((c as { mechanism?: unknown }).mechanism));

const isQuotaEntity: Check = (v) =>
  Array.isArray(v) && v.every((p) => typeof p === 'object' && p !== null && Object.keys(p).length === 2 && isString((p as { type?: unknown }).type) && isStringOrNull((p as { name?: unknown }).name));
const isQuotaOps: Check = (v) =>
  Array.isArray(v) &&
  v.every((o) => typeof o === 'object' && o !== null && Object.keys(o).length === 2 && isString((o as { key?: unknown }).key) && ((o as { value?: unknown }).value === null || typeof (o as { value?: unknown }).value === 'number'));
const isQuotaChanges: Check = (v) =>
  Array.isArray(v) && v.every((c) => typeof c === 'object' && c !== null && Object.keys(c).length === 2 && isQuotaEntity((c as { entity?: unknown }).entity) && isQuotaOps((c as { ops?: unknown }).ops));

/** Fields of each command type and their checks (every command also has `type`). */
const FIELDS: Record<MetadataCommand['type'], Record<string, Check>> = {
  'create-topic': { name: isString, topicId: isString, partitions: isInt, replicationFactor: isInt, assignments: isAssignments, configs: isStringMap, timestampMs: isInt },
  'delete-topic': { name: isString },
  'create-partitions': { name: isString, totalCount: isInt, assignments: isAssignments },
  'alter-configs': { name: isString, set: isStringMap, remove: isStringList },
  'allocate-producer-ids': { count: isInt },
  'register-broker': { id: isInt, incarnationId: isString, host: isString, port: isInt, grpcPort: isInt, rack: isStringOrNull, timestampMs: isInt },
  'unregister-broker': { id: isInt },
  'reassign-partitions': { name: isString, moves: isMoves },
  'complete-reassignment': { name: isString, index: isInt, replicas: isIntList },
  'drain-broker': { id: isInt, draining: (v) => typeof v === 'boolean', automatic: (v) => v === undefined || typeof v === 'boolean' },
  'create-acls': { bindings: isBindings },
  'delete-acls': { bindings: isBindings },
  'upsert-scram-credentials': { credentials: isScramCredentials, ifAbsent: (v) => typeof v === 'boolean' },
  'delete-scram-credentials': { credentials: isScramNames },
  'alter-client-quotas': { changes: isQuotaChanges },
};

/** Why `value` is not a MetadataCommand, or null when it is one. */
export function commandShapeProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a command must be an object';
  const record = value as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) return `unknown command type ${JSON.stringify(type)}`;
  const fields = FIELDS[type as MetadataCommand['type']];
  for (const key of Object.keys(record)) if (key !== 'type' && !Object.hasOwn(fields, key)) return `${type}: unexpected field ${JSON.stringify(key)}`;
  for (const [key, check] of Object.entries(fields)) if (!check(record[key])) return `${type}: field ${key} is missing or has the wrong type`;
  return null;
}
