/**
 * One negotiated connection to one broker: opens the socket, learns the broker's API versions with
 * ApiVersions (v3 first, then the version the broker names, as KIP-511 asks), and sends typed requests
 * at the highest version both sides support.
 *
 * Contract: `request` resolves with the decoded response body and the version used; it rejects with
 * SB_ERR_UNSUPPORTED_VERSION when no common version exists, SB_ERR_IO / SB_ERR_CLOSED on connection
 * trouble (the link is then dead: `isOpen` is false and the owner drops it), SB_ERR_PROTOCOL on bytes it
 * cannot decode. Kafka error codes inside the body are the caller's to read.
 */
import { saslAuthenticate, type SaslCredentials } from './sasl-client.ts';
import type { ConnectionOptions } from 'node:tls';
import { encodeRequestFrame, decodeResponse } from '../protocol/kafka/codec.ts';
import { API_BY_KEY, API_KEYS, type ApiKey, type ApiMessages } from '../protocol/kafka/generated/index.ts';
import type { Input } from '../protocol/kafka/types.ts';
import { StreamBusError } from '../util/errors.ts';
import { VERSION } from '../util/version.ts';
import { ClientConnection } from './connection.ts';
import { pickVersion, unsupportedApi, type BrokerVersions, type VersionRange } from './versions.ts';

const UNSUPPORTED_VERSION = 35;

export interface BrokerLinkOptions {
  host: string;
  port: number;
  clientId: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  tls?: ConnectionOptions;
  /** Authenticate with SASL right after version negotiation. */
  sasl?: SaslCredentials;
}

export interface Response<K extends ApiKey> {
  version: number;
  body: ApiMessages[K]['response'];
}

export class BrokerLink {
  private readonly connection: ClientConnection;
  private versions: BrokerVersions = new Map();

  private constructor(private readonly options: BrokerLinkOptions) {
    this.connection = new ClientConnection({ host: options.host, port: options.port, connectTimeoutMs: options.connectTimeoutMs, requestTimeoutMs: options.requestTimeoutMs, ...(options.tls === undefined ? {} : { tls: options.tls }) });
  }

  /** Connects and negotiates versions; rejects (and closes) when either fails. */
  static async open(options: BrokerLinkOptions): Promise<BrokerLink> {
    const link = new BrokerLink(options);
    await link.connection.open();
    try {
      link.versions = await link.negotiate();
      if (options.sasl !== undefined) {
        await saslAuthenticate(
          {
            handshake: async (mechanism) => (await link.request(API_KEYS.SaslHandshake, () => ({ mechanism }))).body,
            authenticate: async (authBytes) => (await link.request(API_KEYS.SaslAuthenticate, () => ({ authBytes }))).body,
          },
          options.sasl,
          link.address,
        );
      }
    } catch (err) {
      link.close();
      throw err;
    }
    return link;
  }

  get address(): string {
    return this.connection.address;
  }

  get isOpen(): boolean {
    return this.connection.isOpen;
  }

  /** The version `request` would use for `apiKey`, or null when there is none in common. */
  versionFor(apiKey: ApiKey): number | null {
    return pickVersion(apiKey, this.versions);
  }

  /** The broker's advertised range for `apiKey`, if any (for diagnostics). */
  advertised(apiKey: ApiKey): VersionRange | undefined {
    return this.versions.get(apiKey);
  }

  /**
   * Sends one request built for the negotiated version. `timeoutMs` extends the wait for requests the
   * broker may hold (Fetch long polls, JoinGroup during a rebalance).
   */
  async request<K extends ApiKey>(apiKey: K, build: (version: number) => Input<ApiMessages[K]['request']>, timeoutMs?: number): Promise<Response<K>> {
    const version = this.versionFor(apiKey);
    if (version === null) throw unsupportedApi(API_BY_KEY[apiKey]?.name ?? `API ${apiKey}`, this.address);
    const body = await this.send(apiKey, version, build(version), timeoutMs);
    return { version, body };
  }

  /** Produce with acks=0: the broker sends no response, so this resolves once the bytes are written. */
  async sendWithoutResponse(build: (version: number) => Input<ApiMessages[0]['request']>): Promise<number> {
    const version = this.versionFor(API_KEYS.Produce);
    if (version === null) throw unsupportedApi('Produce', this.address);
    const correlationId = this.connection.correlationId();
    await this.connection.send(correlationId, encodeRequestFrame(API_KEYS.Produce, version, correlationId, this.options.clientId, build(version)), false);
    return version;
  }

  close(): void {
    this.connection.close();
  }

  private async send<K extends ApiKey>(apiKey: K, version: number, body: Input<ApiMessages[K]['request']>, timeoutMs?: number): Promise<ApiMessages[K]['response']> {
    const correlationId = this.connection.correlationId();
    const frame = encodeRequestFrame(apiKey, version, correlationId, this.options.clientId, body);
    const response = await this.connection.send(correlationId, frame, true, timeoutMs);
    return decodeResponse(apiKey, version, response).body;
  }

  private async negotiate(): Promise<BrokerVersions> {
    let version = 3;
    for (let attempt = 0; attempt < 2; attempt++) {
      const correlationId = this.connection.correlationId();
      const body = { clientSoftwareName: 'streambus', clientSoftwareVersion: VERSION };
      const frame = await this.connection.send(correlationId, encodeRequestFrame(API_KEYS.ApiVersions, version, correlationId, this.options.clientId, body));
      // The header is always v0 (correlation id); the body starts with error_code in every version.
      const errorCode = frame.length >= 6 ? frame.readInt16BE(4) : -1;
      if (errorCode === UNSUPPORTED_VERSION && attempt === 0) {
        // KIP-511: the broker answers an unsupported version with a v0 body naming its own range.
        const v0 = decodeResponse(API_KEYS.ApiVersions, 0, frame).body;
        const own = v0.apiKeys.find((k) => k.apiKey === API_KEYS.ApiVersions);
        version = own ? Math.min(3, own.maxVersion) : 0;
        continue;
      }
      const { body: decoded } = decodeResponse(API_KEYS.ApiVersions, version, frame);
      if (decoded.errorCode !== 0) {
        throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `ApiVersions v${version} to ${this.address} failed with error ${decoded.errorCode}`);
      }
      return new Map(decoded.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
    }
    throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `${this.address} accepts no ApiVersions version this client speaks`);
  }
}
