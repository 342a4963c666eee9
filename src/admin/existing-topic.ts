/** The metadata of a topic that must exist, for the operations and commands that act on one. */
import type { KafkaClient, TopicInfo } from '../client/index.ts';
import { isKafkaError } from '../client/index.ts';
import { AdminError } from './admin-error.ts';

/** Metadata without auto-creation, so naming a missing topic never creates it. */
export async function existingTopic(client: KafkaClient, name: string): Promise<TopicInfo> {
  try {
    return await client.topic(name, { allowAutoCreate: false });
  } catch (err) {
    if (isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new AdminError('SB_ERR_NOT_FOUND', 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
    throw err;
  }
}
