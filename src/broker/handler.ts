/**
 * The shape of one Kafka API handler: a decoded request body in, a response body out (or null for
 * "no response", which only Produce with acks=0 uses). Handlers turn every expected failure into Kafka
 * error codes in the response; throwing means a request the broker cannot answer, and the connection
 * is closed, as Kafka does.
 */
import type { ApiKey, ApiMessages } from '../protocol/kafka/generated/index.ts';
import type { RequestHeader } from '../protocol/kafka/request-header.ts';
import type { Input } from '../protocol/kafka/types.ts';
import type { ConnectionInfo } from '../net/connection.ts';
import type { BrokerContext } from './context.ts';

export interface RequestInfo {
  readonly header: RequestHeader;
  readonly apiVersion: number;
  readonly connection: ConnectionInfo;
  /** When the frame was received (performance.now() milliseconds), for latency metrics. */
  readonly receivedAt: number;
}

export type Handler<K extends ApiKey> = (
  ctx: BrokerContext,
  request: ApiMessages[K]['request'],
  info: RequestInfo,
) => Promise<Input<ApiMessages[K]['response']> | null> | Input<ApiMessages[K]['response']> | null;

export type HandlerTable = { readonly [K in ApiKey]?: Handler<K> };
