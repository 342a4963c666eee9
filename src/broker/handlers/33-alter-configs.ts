/**
 * AlterConfigs (33), versions 0-2 (AlterConfigsRequest.json): Kafka's replace-all semantics, the
 * configs listed become the resource's whole set of overrides and every override not listed goes
 * back to its default. validate_only checks without changing. Checks and the change are shared with
 * IncrementalAlterConfigs (config-alteration.ts).
 */
import type { Handler } from '../handler.ts';
import { alterResourceConfigs, type ChangePlan } from '../config-alteration.ts';

interface Entry {
  readonly name: string;
  readonly value: string | null;
}

export const alterConfigs: Handler<33> = async (ctx, request, info) => {
  const responses = [];
  for (const r of request.resources) {
    const outcome = await alterResourceConfigs(ctx, info, r.resourceType, r.resourceName, replaceAllPlan(r.configs), request.validateOnly);
    responses.push({ resourceType: r.resourceType, resourceName: r.resourceName, ...outcome });
  }
  return { throttleTimeMs: 0, responses };
};

function replaceAllPlan(entries: readonly Entry[]): ChangePlan {
  return (topic) => {
    const set: Record<string, string> = {};
    for (const e of entries) {
      if (e.value === null) return { problem: `Null value not supported for ${e.name}.` };
      set[e.name] = e.value;
    }
    const remove = topic === null ? [] : Object.keys(topic.configs).filter((name) => !(name in set));
    return { set, remove };
  };
}
