// Goal: topic and broker configs through the admin clients work as Kafka's do: every topic config of
// Kafka 3.9 is accepted at creation and described back (values still checked by type, unknown names
// refused); AlterConfigs replaces the whole set of overrides (unlisted ones return to their default)
// and validateOnly changes nothing; broker configs are described with their sources and synonyms
// (a value set in the broker's environment is STATIC_BROKER_CONFIG over the DEFAULT_CONFIG), and
// altering one is refused as Kafka refuses a static config.
// Method: one broker process with storage.retentionBytes set through the environment; kafkajs 2.2.4
// (DescribeConfigs v2, AlterConfigs v1) and @platformatic/kafka (DescribeConfigs v4, AlterConfigs v2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Admin } from 'kafkajs';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { BrokerProcess } from '../helpers/broker-process.ts';
import { startKafkajsBroker, type KafkajsBroker } from '../helpers/kafkajs-broker.ts';
import { TOPIC_CONFIGS } from '../../src/metadata/topic-configs.ts';

const { ConfigResourceTypes, ConfigSource } = kafkajs;
const RETENTION_BYTES = '1073741824';

/** A valid value other than the default for every Kafka 3.9 topic config. */
const NON_DEFAULT: Readonly<Record<string, string>> = {
  'cleanup.policy': 'compact', 'compression.type': 'producer', 'delete.retention.ms': '1000', 'file.delete.delay.ms': '1000',
  'flush.messages': '1000', 'flush.ms': '1000', 'follower.replication.throttled.replicas': '0:1', 'index.interval.bytes': '8192',
  'leader.replication.throttled.replicas': '*', 'local.retention.bytes': '1000', 'local.retention.ms': '1000',
  'max.compaction.lag.ms': '1000', 'max.message.bytes': '2000000', 'message.downconversion.enable': 'false',
  'message.format.version': '2.8', 'message.timestamp.after.max.ms': '1000', 'message.timestamp.before.max.ms': '1000',
  'message.timestamp.difference.max.ms': '1000', 'message.timestamp.type': 'LogAppendTime', 'min.cleanable.dirty.ratio': '0.25',
  'min.compaction.lag.ms': '1000', 'min.insync.replicas': '1', 'preallocate': 'true', 'remote.log.copy.disable': 'true',
  'remote.log.delete.on.disable': 'true', 'remote.storage.enable': 'false', 'retention.bytes': '1000', 'retention.ms': '1000',
  'segment.bytes': '1048576', 'segment.index.bytes': '4096', 'segment.jitter.ms': '1000', 'segment.ms': '1000',
  'unclean.leader.election.enable': 'true',
};

let started: KafkajsBroker;
let broker: BrokerProcess;
let admin: Admin;

before(async () => {
  started = await startKafkajsBroker('configs-admin', { env: { STREAMBUS_STORAGE_RETENTION_BYTES: RETENTION_BYTES } }, 1);
  ({ broker, admin } = started);
});

after(async () => {
  await started?.stop();
});

async function topicConfigs(topic: string, includeSynonyms = false) {
  const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms });
  return new Map(resources[0]!.configEntries.map((e) => [e.configName, e]));
}

test('every Kafka 3.9 topic config is accepted at creation and described back with its value', async () => {
  assert.deepEqual(Object.keys(NON_DEFAULT).sort(), TOPIC_CONFIGS.map((c) => c.name).sort(), 'the list above covers the table');
  const topic = 'every-topic-config';
  await admin.createTopics({ topics: [{ topic, configEntries: Object.entries(NON_DEFAULT).map(([name, value]) => ({ name, value })) }] });
  const described = await topicConfigs(topic);
  for (const [name, value] of Object.entries(NON_DEFAULT)) {
    assert.equal(described.get(name)?.configValue, value, name);
    assert.equal(described.get(name)?.configSource, ConfigSource.TOPIC_CONFIG, name);
  }
});

test('values are checked by type and unknown names are refused with INVALID_CONFIG', async () => {
  for (const [name, value] of [['message.timestamp.difference.max.ms', 'soon'], ['preallocate', 'maybe'], ['min.cleanable.dirty.ratio', '2'], ['no.such.config', '1']]) {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: 'refused-config', configEntries: [{ name: name!, value: value! }] }] }),
      (err: Error & { errors?: { type: string }[] }) => err.errors?.[0]?.type === 'INVALID_CONFIG',
      `${name}=${value}`,
    );
  }
  assert.ok(!(await admin.listTopics()).includes('refused-config'));
});

test('AlterConfigs replaces the whole set of overrides; validateOnly changes nothing; a bad value changes nothing', async () => {
  const topic = 'replace-all';
  await admin.createTopics({ topics: [{ topic, configEntries: [{ name: 'retention.ms', value: '60000' }, { name: 'segment.ms', value: '30000' }] }] });
  const alter = (configEntries: { name: string; value: string }[], validateOnly = false) =>
    admin.alterConfigs({ validateOnly, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }] });

  await alter([{ name: 'max.message.bytes', value: '2000000' }], true);
  let c = await topicConfigs(topic);
  assert.equal(c.get('retention.ms')?.configValue, '60000', 'validateOnly changes nothing');
  assert.equal(c.get('max.message.bytes')?.configValue, '1048588');

  await alter([{ name: 'max.message.bytes', value: '2000000' }, { name: 'flush.messages', value: '10' }]);
  c = await topicConfigs(topic);
  assert.equal(c.get('max.message.bytes')?.configValue, '2000000');
  assert.equal(c.get('flush.messages')?.configValue, '10');
  assert.equal(c.get('retention.ms')?.configValue, String(7 * 24 * 3600 * 1000), 'an override not listed returns to the default');
  assert.equal(c.get('retention.ms')?.configSource, ConfigSource.DEFAULT_CONFIG);
  assert.equal(c.get('segment.ms')?.configSource, ConfigSource.DEFAULT_CONFIG);

  await assert.rejects(alter([{ name: 'retention.ms', value: 'forever' }]), (err: Error & { type?: string }) => err.type === 'INVALID_CONFIG');
  assert.equal((await topicConfigs(topic)).get('max.message.bytes')?.configValue, '2000000', 'a refused change leaves the overrides alone');
});

test('broker configs are described with their sources and synonyms, topic configs with the broker default behind them', async () => {
  const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }], includeSynonyms: true });
  const entries = new Map(resources[0]!.configEntries.map((e) => [e.configName, e]));
  const bytes = entries.get('log.retention.bytes')!;
  assert.equal(bytes.configValue, RETENTION_BYTES);
  assert.equal(bytes.configSource, ConfigSource.STATIC_BROKER_CONFIG);
  assert.equal(bytes.readOnly, true);
  assert.deepEqual(bytes.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]), [
    ['log.retention.bytes', RETENTION_BYTES, ConfigSource.STATIC_BROKER_CONFIG],
    ['log.retention.bytes', '-1', ConfigSource.DEFAULT_CONFIG],
  ]);
  const policy = entries.get('log.cleanup.policy')!;
  assert.deepEqual([policy.configValue, policy.configSource], ['delete', ConfigSource.DEFAULT_CONFIG]);
  assert.equal(entries.get('broker.id')?.configValue, '1');

  const topic = await topicConfigs('replace-all', true);
  const retention = topic.get('retention.bytes')!;
  assert.equal(retention.configValue, RETENTION_BYTES);
  assert.equal(retention.configSource, ConfigSource.STATIC_BROKER_CONFIG);
  assert.deepEqual(retention.configSynonyms.map((s) => [s.configName, s.configSource]), [['log.retention.bytes', ConfigSource.STATIC_BROKER_CONFIG], ['log.retention.bytes', ConfigSource.DEFAULT_CONFIG]]);
  const bytesOverride = topic.get('max.message.bytes')!;
  assert.deepEqual(bytesOverride.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]), [
    ['max.message.bytes', '2000000', ConfigSource.TOPIC_CONFIG],
    ['message.max.bytes', '1048588', ConfigSource.DEFAULT_CONFIG],
  ]);
});

test('altering a broker config is refused as Kafka refuses a static one (INVALID_REQUEST)', async () => {
  await assert.rejects(
    admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'log.retention.bytes', value: '1' }] }] }),
    (err: Error & { type?: string }) => err.type === 'INVALID_REQUEST',
  );
});

test('@platformatic/kafka: describeConfigs of the broker with synonyms, alterConfigs and incrementalAlterConfigs of a topic', async () => {
  const client = new PlatformaticAdmin({ clientId: 'configs-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.kafkaPort}`] });
  try {
    const [described] = await client.describeConfigs({ resources: [{ resourceType: 4, resourceName: '1', configurationKeys: ['log.retention.bytes'] }], includeSynonyms: true });
    assert.deepEqual(described!.configs.map((c) => [c.name, c.value, c.configSource, c.synonyms.length]), [['log.retention.bytes', RETENTION_BYTES, 4, 2]]);
    await admin.createTopics({ topics: [{ topic: 'platformatic-configs' }] });
    await client.alterConfigs({ resources: [{ resourceType: 2, resourceName: 'platformatic-configs', configs: [{ name: 'retention.ms', value: '120000' }] }] });
    await client.incrementalAlterConfigs({ resources: [{ resourceType: 2, resourceName: 'platformatic-configs', configs: [{ name: 'segment.jitter.ms', configOperation: 0, value: '5' }] }] });
  } finally {
    await client.close();
  }
  const c = await topicConfigs('platformatic-configs');
  assert.equal(c.get('retention.ms')?.configValue, '120000');
  assert.equal(c.get('segment.jitter.ms')?.configValue, '5');
});
