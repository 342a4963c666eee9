/** Sends one ApiVersions v3 request over a raw socket and returns the advertised API keys. */
import { ClientConnection } from '../../src/client/connection.ts';
import { decodeResponse, encodeRequestFrame } from '../../src/protocol/kafka/codec.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';

export async function apiVersionsProbe(port: number): Promise<Map<number, { min: number; max: number }>> {
  const conn = new ClientConnection({ host: '127.0.0.1', port, requestTimeoutMs: 10_000 });
  await conn.open();
  try {
    const id = conn.correlationId();
    const frame = await conn.send(id, encodeRequestFrame(API_KEYS.ApiVersions, 3, id, 'probe', { clientSoftwareName: 'probe', clientSoftwareVersion: '1' }));
    const { body } = decodeResponse(API_KEYS.ApiVersions, 3, frame);
    if (body.errorCode !== 0) throw new Error(`ApiVersions error ${body.errorCode}`);
    return new Map(body.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  } finally {
    conn.close();
  }
}
