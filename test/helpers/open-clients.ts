/**
 * kafkajs producers, consumers and admins a test file opened, so that its after() hook disconnects
 * them even when a test failed before its own disconnect: a consumer left running keeps retrying the
 * stopped brokers and keeps the test process alive.
 */
export interface Disconnectable {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export class OpenClients {
  private readonly open = new Set<Disconnectable>();

  /** Connects `client` and remembers it. */
  async connect<T extends Disconnectable>(client: T): Promise<T> {
    this.open.add(client);
    await client.connect();
    return client;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open];
    this.open.clear();
    await Promise.all(all.map((c) => c.disconnect().catch(() => undefined)));
  }
}
