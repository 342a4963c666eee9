/**
 * The admin API's plumbing on the HTTP port: what a route is, how a request reaches it (path template,
 * query, JSON body, the caller), and the one shape of every error answer:
 *
 *   { "code": "SB_ERR_NOT_FOUND", "error": "UNKNOWN_TOPIC_OR_PARTITION", "message": "topic x does not exist" }
 *
 * `code` is the stable SB_ERR_* code (docs/errors.md), `error` the finer reason (a Kafka error name where
 * the broker gave one), `message` for people. The routes themselves live in admin/ (topics, groups,
 * cluster) and app/cluster-admin.ts (brokers); docs/openapi.yaml describes them all.
 */
import type { ErrorCode } from '../util/errors.ts';

/** Every admin route lives under this prefix. */
export const ADMIN_PREFIX = '/api/v1';
/** The largest request body read; a larger one is refused with 413 before it is parsed. */
export const ADMIN_BODY_BYTES_MAX = 64 * 1024;
/** Admin requests answered at once; more get 503, so a flood cannot pile up loopback Kafka connections. */
export const ADMIN_REQUESTS_IN_FLIGHT_MAX = 16;

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The Authorization header's credentials, for routes that act through the Kafka API as the caller. */
export type AdminCredentials = { readonly kind: 'basic'; readonly username: string; readonly password: string } | { readonly kind: 'bearer'; readonly token: string };

export interface AdminCaller {
  /** Who the broker authenticated (certificate, bearer token or Basic password); null while authentication is off. */
  readonly principal: string | null;
  /** What the request carried in Authorization; null while authentication is off (nothing needs it then). */
  readonly credentials: AdminCredentials | null;
  /** The client's address, for ACLs that name hosts. */
  readonly host: string;
}

export interface AdminRequest {
  readonly method: AdminMethod;
  readonly path: string;
  /** The template's `{name}` parts, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when the request had none. */
  readonly body: unknown;
  readonly caller: AdminCaller;
}

/** An answer of the admin routes: an HTTP status and a JSON body (bigint offsets become numbers). */
export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface AdminRoute {
  readonly method: AdminMethod;
  /** An OpenAPI path template under ADMIN_PREFIX, `/api/v1/topics/{name}`. */
  readonly path: string;
  /** Contract: resolves with an answer for every outcome the route foresees; a rejection is a 500 with a log line. */
  handle(request: AdminRequest): Promise<AdminAnswer>;
}

export function errorAnswer(status: number, code: ErrorCode, error: string, message: string, extra: Record<string, unknown> = {}): AdminAnswer {
  return { status, body: { code, error, message, ...extra } };
}

/** The params of `path` when it fits `template` (`{name}` matches one non-empty segment); null otherwise or when a segment is not valid percent-encoding. */
export function matchTemplate(template: string, path: string): Record<string, string> | null {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith('{') && w.endsWith('}')) {
      if (g === '') return null;
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) return null;
  }
  return params;
}

/** Credentials of an Authorization header (Basic or Bearer); null without one or when it is malformed. */
export function parseAuthorization(header: string | undefined): AdminCredentials | null {
  if (header === undefined) return null;
  const bearer = /^Bearer +(\S+)$/i.exec(header)?.[1];
  if (bearer !== undefined) return { kind: 'bearer', token: bearer };
  const basic = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(header)?.[1];
  if (basic === undefined) return null;
  const text = Buffer.from(basic, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  return { kind: 'basic', username: text.slice(0, colon), password: text.slice(colon + 1) };
}
