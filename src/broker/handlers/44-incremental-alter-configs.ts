/**
 * IncrementalAlterConfigs (44), versions 0-1 (IncrementalAlterConfigsRequest.json, KIP-339):
 * operation 0 SET, 1 DELETE (back to the default); APPEND/SUBTRACT (2, 3) apply to list configs.
 * Authorization, checks and the change are shared with AlterConfigs (config-alteration.ts).
 */
import type { Handler } from '../handler.ts';
import { alterResourceConfigs, type ChangePlan } from '../config-alteration.ts';
import type { BrokerContext } from '../context.ts';

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

interface Operation {
  readonly name: string;
  readonly configOperation: number;
  readonly value: string | null;
}

export const incrementalAlterConfigs: Handler<44> = async (ctx, request, info) => {
  const responses = [];
  for (const r of request.resources) {
    const outcome = await alterResourceConfigs(ctx, info, r.resourceType, r.resourceName, incrementalPlan(ctx, r.configs), request.validateOnly);
    responses.push({ resourceType: r.resourceType, resourceName: r.resourceName, ...outcome });
  }
  return { throttleTimeMs: 0, responses };
};

function incrementalPlan(ctx: BrokerContext, operations: readonly Operation[]): ChangePlan {
  return (topic) => {
    const set: Record<string, string> = {};
    const remove: string[] = [];
    for (const c of operations) {
      if (c.configOperation === SET) {
        if (c.value === null) return { problem: `Null value not supported for ${c.name}.` };
        set[c.name] = c.value;
      } else if (c.configOperation === DELETE) remove.push(c.name);
      else if (c.configOperation === APPEND || c.configOperation === SUBTRACT) {
        const effective = topic === null ? {} : ctx.topics.effectiveConfigs(topic);
        const current = (set[c.name] ?? effective[c.name] ?? '').split(',').filter(Boolean);
        const items = (c.value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const next = c.configOperation === APPEND ? [...new Set([...current, ...items])] : current.filter((v) => !items.includes(v));
        set[c.name] = next.join(',');
      } else return { problem: `Invalid operation ${c.configOperation} for ${c.name}.` };
    }
    return { set, remove };
  };
}
