/**
 * DeleteTopics (20), versions 0-6 (DeleteTopicsRequest.json). v0-5 name topics in topic_names; v6 in
 * topics[] by name or by topic id. Internal topics cannot be deleted (TOPIC_AUTHORIZATION_FAILED, as Kafka).
 * With authorization each topic needs DELETE (by name checked before existence, as Kafka).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { ZERO_UUID } from '../../protocol/kafka/codec-support.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';

export const deleteTopics: Handler<20> = async (ctx, request, info) => {
  const wanted: { name: string | null; topicId: string }[] =
    info.apiVersion >= 6 ? request.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const responses = [];
  for (const w of wanted) {
    if (w.name !== null && !allowed(ctx, info, Op.DELETE, Resource.TOPIC, w.name)) {
      responses.push({ name: w.name, topicId: w.topicId, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
      continue;
    }
    const topic = w.name !== null ? ctx.metadata.state.topic(w.name) : ctx.metadata.state.topicById(w.topicId);
    if (!topic) {
      const errorCode = w.name === null ? KafkaErrorCode.UNKNOWN_TOPIC_ID : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      responses.push({ name: w.name, topicId: w.topicId, errorCode, errorMessage: null });
      continue;
    }
    if (w.name === null && !allowed(ctx, info, Op.DELETE, Resource.TOPIC, topic.name)) {
      responses.push({ name: null, topicId: w.topicId, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
      continue;
    }
    const result = await ctx.topics.delete(topic.name);
    if (!result.error) {
      // Committed offsets of a deleted topic must not resurface if a topic of that name is created again.
      await ctx.groups.removeTopicOffsets([topic.name]).catch((err: unknown) => ctx.log.error({ err, topic: topic.name }, 'could not remove committed offsets of a deleted topic'));
    }
    responses.push({
      name: topic.name,
      topicId: info.apiVersion >= 6 ? topic.topicId : ZERO_UUID,
      errorCode: metadataErrorCode(result.error),
      errorMessage: result.message ?? null,
    });
  }
  return { throttleTimeMs: 0, responses };
};
