/**
 * IncrementalAlterConfigs (44), versions 0-1 (IncrementalAlterConfigsRequest.json), for topics:
 * operation 0 SET, 1 DELETE (back to the default); APPEND/SUBTRACT (2, 3) apply to list configs, of
 * which only cleanup.policy exists here. Broker configs come from broker.yaml and are read-only.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { metadataErrorCode } from '../kafka-errors.ts';

const TOPIC = 2;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

export const incrementalAlterConfigs: Handler<44> = async (ctx, request) => {
  const responses = [];
  for (const r of request.resources) {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    if (r.resourceType !== TOPIC) {
      responses.push({ ...base, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Only topic configs can be altered; broker settings come from broker.yaml.' });
      continue;
    }
    const topic = ctx.metadata.state.topic(r.resourceName);
    if (!topic) {
      responses.push({ ...base, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${r.resourceName}' does not exist.` });
      continue;
    }
    const set: Record<string, string> = {};
    const remove: string[] = [];
    let problem: string | null = null;
    for (const c of r.configs) {
      if (c.configOperation === SET && c.value !== null) set[c.name] = c.value;
      else if (c.configOperation === DELETE) remove.push(c.name);
      else if (c.configOperation === APPEND || c.configOperation === SUBTRACT) {
        const current = (set[c.name] ?? ctx.topics.effectiveConfigs(topic)[c.name] ?? '').split(',').filter(Boolean);
        const items = (c.value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const next = c.configOperation === APPEND ? [...new Set([...current, ...items])] : current.filter((v) => !items.includes(v));
        set[c.name] = next.join(',');
      } else problem = `Invalid operation ${c.configOperation} for ${c.name}.`;
    }
    if (problem) {
      responses.push({ ...base, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: problem });
      continue;
    }
    const result = await ctx.topics.alterConfigs(r.resourceName, set, remove, request.validateOnly);
    responses.push({ ...base, errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null });
  }
  return { throttleTimeMs: 0, responses };
};
