/**
 * One broker process with a connected kafkajs admin, for the integration tests that drive the broker
 * through kafkajs: `start()` in before(), `stop()` in after() (the admin disconnects, and the broker
 * must exit 0 on SIGTERM).
 */
import assert from 'node:assert/strict';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { startBroker, type BrokerProcess, type StartOptions } from './broker-process.ts';

export interface KafkajsBroker {
  readonly broker: BrokerProcess;
  readonly kafka: Kafka;
  readonly admin: Admin;
  stop(): Promise<void>;
}

export async function startKafkajsBroker(clientId: string, options: StartOptions = {}, retries = 5): Promise<KafkajsBroker> {
  const broker = await startBroker(options);
  const kafka = new kafkajs.Kafka({ clientId, brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: kafkajs.logLevel.NOTHING, retry: { retries, initialRetryTime: 100 } });
  const admin = kafka.admin();
  await admin.connect();
  return {
    broker,
    kafka,
    admin,
    async stop() {
      await admin.disconnect();
      const code = await broker.stop();
      assert.equal(code, 0, broker.output());
    },
  };
}
