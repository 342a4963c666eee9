/** The metadata of a topic that must exist, for the commands that act on one. */
import type { KafkaClient, TopicInfo } from '../../client/index.ts';
import { isKafkaError } from '../../client/index.ts';
import { CommandError } from '../client-command.ts';

/** Metadata without auto-creation, so naming a missing topic never creates it. */
export async function existingTopic(client: KafkaClient, name: string): Promise<TopicInfo> {
  try {
    return await client.topic(name, { allowAutoCreate: false });
  } catch (err) {
    if (isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw new CommandError(`topic ${name} does not exist`);
    throw err;
  }
}
