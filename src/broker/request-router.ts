/**
 * Turns request frames into response frames: reads the header, refuses what is not advertised,
 * decodes the body with the generated codec, runs the API's handler and encodes its answer.
 *
 * Refusals follow Kafka: an ApiVersions request of an unsupported version gets error 35 in a v0-layout
 * body (KIP-511), so the client can retry lower; any other API or version that was not advertised, and
 * any malformed request, closes the connection with a log line (the client reconnects and re-negotiates).
 */
import { peekRequestHeader, decodeRequest, encodeResponseFrame } from '../protocol/kafka/codec.ts';
import { apiVersionsUnsupportedFrame, isSupportedVersion } from '../protocol/kafka/api-versions.ts';
import { API_BY_KEY, API_KEYS, type ApiKey } from '../protocol/kafka/generated/index.ts';
import type { FrameHandler, ConnectionInfo } from '../net/connection.ts';
import { StreamBusError } from '../util/errors.ts';
import type { BrokerContext } from './context.ts';
import type { Handler, HandlerTable } from './handler.ts';
import { SASL_STATE, type SaslState } from '../security/sasl.ts';
import { ANONYMOUS, PRINCIPAL_STATE } from '../security/principal.ts';
import { enabledAuthenticationMethods } from '../config/index.ts';
import { saslStep } from './sasl-session.ts';
import { chargeOnArrival, throttleRequest } from './quota-throttle.ts';
import { admitConnection } from './tenant-access.ts';
import { RequestTrace } from './request-spans.ts';

/** What a client may send before it authenticated (and, with multi-tenancy, before it has a tenant). */
const PRE_AUTHENTICATION = new Set<number>([API_KEYS.ApiVersions, API_KEYS.SaslHandshake, API_KEYS.SaslAuthenticate]);

export class RequestRouter implements FrameHandler {
  /** A verified client certificate is enough (mtls among several methods). */
  private readonly certificatesAuthenticate: boolean;

  constructor(
    private readonly ctx: BrokerContext,
    private readonly handlers: HandlerTable,
  ) {
    this.certificatesAuthenticate = enabledAuthenticationMethods(ctx.config.security.authentication).includes('mtls');
  }

  /**
   * With SASL, only ApiVersions, SaslHandshake and SaslAuthenticate come before authentication, and a
   * session past its end (KIP-368) must re-authenticate first; anything else closes the connection.
   * With mtls among the methods, a connection with a verified client certificate needs no SASL.
   */
  private checkAuthenticated(apiKey: number, connection: ConnectionInfo): void {
    if (PRE_AUTHENTICATION.has(apiKey)) return;
    const state = connection.state.get(SASL_STATE) as SaslState | undefined;
    if (this.certificatesAuthenticate && state?.principal == null && connection.state.get(PRINCIPAL_STATE) !== undefined && connection.state.get(PRINCIPAL_STATE) !== ANONYMOUS) return;
    const name = API_BY_KEY[apiKey]?.name ?? `API ${apiKey}`;
    if (state?.principal == null) throw new StreamBusError('SB_ERR_SASL', `${name} before SASL authentication (the listener requires ${this.ctx.sasl!.mechanisms.join(', ')})`);
    if (this.ctx.now() >= state.expiresAtMs) throw new StreamBusError('SB_ERR_SASL', `${name} after the SASL session of ${state.principal} expired; the client must re-authenticate`);
  }

  /**
   * A bare SASL token after SaslHandshake v0 (Kafka's original framing): answered with a bare,
   * size-prefixed token; back to Kafka requests once authenticated; a refusal closes the connection
   * without an answer (there is no place for an error in this framing).
   */
  private async rawToken(frame: Buffer, connection: ConnectionInfo, state: SaslState & { mechanism: string }): Promise<Buffer[] | null> {
    const step = await saslStep(this.ctx, connection, state, frame);
    if (step.kind === 'refused') return null;
    if (step.kind === 'authenticated') state.rawTokens = false;
    const size = Buffer.alloc(4);
    size.writeInt32BE(step.serverMessage.length);
    return [size, step.serverMessage];
  }

  async handle(frame: Buffer, connection: ConnectionInfo): Promise<Buffer[] | null> {
    if (this.ctx.sasl) {
      const state = connection.state.get(SASL_STATE) as SaslState | undefined;
      if (state?.rawTokens === true && state.mechanism !== null) return this.rawToken(frame, connection, state as SaslState & { mechanism: string });
    }
    const receivedAt = performance.now();
    const peek = peekRequestHeader(frame);
    const { apiKey, apiVersion, correlationId } = peek;
    if (!isSupportedVersion(apiKey, apiVersion)) {
      if (apiKey === API_KEYS.ApiVersions) return [apiVersionsUnsupportedFrame(correlationId)];
      const name = API_BY_KEY[apiKey]?.name ?? `unknown API ${apiKey}`;
      throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `${name} v${apiVersion} is not supported by this broker`);
    }
    if (this.ctx.sasl) this.checkAuthenticated(apiKey, connection);
    if (this.ctx.tenancy !== null && !PRE_AUTHENTICATION.has(apiKey)) {
      // Connections that authenticated without SASL (certificates, or none) are given their tenant at their first request.
      const refused = admitConnection(this.ctx, connection);
      if (refused !== null) throw new StreamBusError('SB_ERR_TENANT', refused);
    }
    const handler = this.handlers[apiKey as ApiKey] as Handler<ApiKey> | undefined;
    if (!handler) throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `no handler for advertised API ${apiKey}`);
    const { header, body } = decodeRequest(frame);
    // Tracing off: this null check is all the request path pays for it.
    const traced = this.ctx.tracing === null ? null : RequestTrace.start(this.ctx.tracing, this.ctx, apiKey, API_BY_KEY[apiKey]!.name, header, body, apiVersion);
    let failed = false;
    let response: unknown = null;
    let thrown: unknown;
    try {
      const info = { header, apiVersion, connection, receivedAt };
      const charged = chargeOnArrival(this.ctx, apiKey, frame.length, info);
      response = await handler(this.ctx, body as never, info);
      // A Fetch's long poll is waiting, not handler work: request_percentage does not count it.
      throttleRequest(this.ctx, apiKey, charged, apiKey === API_KEYS.Fetch ? 0 : performance.now() - receivedAt, info, response as { throttleTimeMs?: number } | null);
      if (response === null) return null;
      return encodeResponseFrame(apiKey as ApiKey, apiVersion, correlationId, response as never);
    } catch (err) {
      failed = true;
      thrown = err;
      throw err;
    } finally {
      this.ctx.metrics.request(API_BY_KEY[apiKey]!.name, (performance.now() - receivedAt) / 1000, failed);
      traced?.finish(response, thrown);
    }
  }
}
