/**
 * The broker's HTTP endpoint on server.httpPort: liveness, readiness, Prometheus metrics and the admin
 * API under /api/v1 (admin-api.ts; docs/admin-api.md).
 * Liveness answers 200 whenever the process serves HTTP. Readiness answers 200 only once the broker
 * reports ready (storage recovered and the Kafka listener accepting), 503 before and while stopping.
 *
 * With TLS (security.tls) the port speaks HTTPS, and (unless security.tls.plainHttpProbes is false)
 * plain HTTP for the health checks and the metrics scrape only (shared-port.ts tells them apart by the
 * first byte), so probes and scrapers written with http:// (the deployment guide's) keep working;
 * anything else in plain HTTP, and any request there carrying credentials, is refused with 400 and a
 * log line. Health or metrics that need authentication are HTTPS only. Client certificates are asked
 * for but not required, so health probes and scrapers need none. With authentication on, every admin
 * request must carry credentials the broker accepts (a verified certificate, a bearer JWT, or HTTP
 * Basic for SCRAM and PLAIN users): 401 otherwise. Authorization is the routes' own (the Kafka API's
 * ACL checks).
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { sharedPortServer } from './shared-port.ts';
import type { ServerTls } from '../security/server-tls.ts';
import { ANONYMOUS } from '../security/principal.ts';
import { clientIp } from '../util/ip-address.ts';
import type { BrokerMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { bigintAsNumber } from '../util/json.ts';
import {
  ADMIN_BODY_BYTES_MAX,
  ADMIN_PREFIX,
  ADMIN_REQUESTS_IN_FLIGHT_MAX,
  errorAnswer,
  matchTemplate,
  parseAuthorization,
  type AdminAnswer,
  type AdminCaller,
  type AdminMethod,
  type AdminRoute,
} from './admin-api.ts';

/** How long stop() lets requests on connections behind a shared port finish. */
const STOP_GRACE_MS = 2_000;

export interface HttpOptions {
  host: string;
  port: number;
  livenessPath: string;
  readinessPath: string;
  metricsPath: string;
  healthEnabled: boolean;
  metricsEnabled: boolean;
  /** Serve HTTPS with these settings; plain HTTP when absent. */
  tls?: ServerTls;
  /** With `tls`: also answer the health checks and metrics in plain HTTP on the same port (security.tls.plainHttpProbes; true when not given). */
  plainProbes?: boolean;
  /** Admin requests need credentials (security.authentication.enabled): a verified client certificate, or a token or password `bearer` / `basic` accepts. */
  authenticateAdmin?: boolean;
  /** Checks an `Authorization: Bearer` token (method jwt): the principal, or null when refused. */
  bearer?: (token: string) => Promise<string | null>;
  /** Checks `Authorization: Basic` credentials (SCRAM or PLAIN users, admin API only): the principal, or null when refused. */
  basic?: (username: string, password: string) => Promise<string | null>;
  /** Serve metrics / health only to clients with a verified certificate or bearer token (401 otherwise). */
  metricsNeedAuthentication?: boolean;
  healthNeedsAuthentication?: boolean;
}

export interface ReadinessSource {
  /** Null when ready; otherwise the reason the broker is not ready, shown in the 503 body. */
  notReadyReason(): string | null;
}

export class HttpServer {
  private server: Server | NetServer | null = null;
  /** With TLS: the HTTPS and plain servers behind the shared port (they do not listen themselves). */
  private inner: Server[] = [];
  /** With TLS: the connections the shared port accepted and not yet closed. */
  private readonly sockets = new Set<Socket>();
  private adminInFlight = 0;

  constructor(
    private readonly options: HttpOptions,
    private readonly metrics: BrokerMetrics,
    private readonly readiness: ReadinessSource,
    private readonly log: Logger,
    /** The admin API's routes (admin-api.ts). */
    private readonly admin: readonly AdminRoute[] = [],
  ) {}

  /** Resolves with the bound port once listening (port 0 picks a free one). */
  async start(): Promise<number> {
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err, path: req.url }, 'http request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    };
    const tls = this.options.tls;
    let server: Server | NetServer;
    if (tls === undefined) server = createServer(serve);
    else {
      const https = createHttpsServer(tls.serverOptions(false), serve);
      const handshakeFailed = (err: NodeJS.ErrnoException, remote: string | undefined) => this.log.warn({ remote, code: err.code, reason: err.message }, 'TLS handshake with an HTTP client failed');
      https.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => handshakeFailed(err, socket.remoteAddress));
      tls.onChange(() => https.setSecureContext(tls.serverOptions(false)));
      if (this.options.plainProbes === false) server = https;
      else {
        const plain = createServer(serve);
        const shared = sharedPortServer({ https, plain, tlsOptions: () => tls.serverOptions(false), onTlsError: (remote, err) => handshakeFailed(err, remote) });
        shared.on('connection', (socket: Socket) => {
          this.sockets.add(socket);
          socket.once('close', () => this.sockets.delete(socket));
        });
        server = shared;
        this.inner = [https, plain];
      }
    }
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    (server as Partial<Server>).closeIdleConnections?.call(server);
    // The servers behind a shared port never bound a port: closing them stops their timers and closes
    // their idle connections (node reports "not running" to the callback, as expected); what is still
    // open a moment later is cut, since they cannot wait for it as a listening server does.
    for (const s of this.inner) {
      try {
        s.close(() => undefined);
      } catch {
        // A runtime that refuses to close a server that never listened: nothing of it to stop.
      }
    }
    const cut = this.sockets.size === 0 ? null : setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, STOP_GRACE_MS);
    cut?.unref();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (cut !== null) clearTimeout(cut);
  }

  /** The request's principal, or null after refusing it with 401 and a log line. */
  private async authenticated(req: IncomingMessage, res: ServerResponse, path: string, what: string): Promise<string | null> {
    const principal = await authenticate(this.options, req);
    if (principal !== null) return principal;
    this.log.warn({ method: req.method, path, remote: req.socket.remoteAddress }, 'HTTP request without a verified client certificate or bearer token refused');
    const how = this.options.bearer === undefined ? 'a client certificate signed by security.tls.caFile' : 'a client certificate signed by security.tls.caFile or an Authorization: Bearer token';
    sendJson(res, 401, { error: 'UNAUTHENTICATED', message: `${what} need ${how}` });
    return null;
  }

  /** Routes, authenticates, reads the body and runs one admin request; every outcome is an answer. */
  private async adminAnswer(req: IncomingMessage, path: string): Promise<AdminAnswer> {
    const method = (req.method ?? 'GET').toUpperCase();
    const candidates = this.admin.map((route) => ({ route, params: matchTemplate(route.path, path) })).filter((c) => c.params !== null);
    const found = candidates.find((c) => c.route.method === method);
    if (found === undefined) {
      req.resume();
      this.log.info({ method, path, remote: req.socket.remoteAddress }, candidates.length === 0 ? 'admin request for no route' : 'admin request with a method its route does not take');
      if (candidates.length === 0) return errorAnswer(404, 'SB_ERR_NOT_FOUND', 'NO_SUCH_ROUTE', `no admin route ${path} (docs/admin-api.md lists them)`);
      return errorAnswer(405, 'SB_ERR_INVALID_REQUEST', 'METHOD_NOT_ALLOWED', `${path} takes ${candidates.map((c) => c.route.method).join(', ')}, not ${method}`);
    }
    let caller: AdminCaller | AdminAnswer;
    try {
      caller = await this.adminCaller(req, path);
    } catch (err) {
      req.resume();
      this.log.warn({ err, method, path }, 'admin request credentials could not be checked');
      return errorAnswer(503, 'SB_ERR_UNAVAILABLE', 'NOT_SERVING', 'the broker cannot check credentials now (its Kafka listener is not accepting yet); retry later');
    }
    if ('status' in caller) {
      req.resume();
      return caller;
    }
    const body = await readJsonBody(req);
    if ('status' in body) {
      this.log.warn({ method, path, remote: req.socket.remoteAddress, reason: (body.body as { message: string }).message }, 'admin request refused');
      return body;
    }
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    try {
      const answer = await found.route.handle({ method: method as AdminMethod, path, params: found.params!, query, body: body.value, caller });
      // Changes and refusals get a line (never a credential); successful reads do not.
      if (method !== 'GET' || answer.status >= 400) this.log.info({ method, path, status: answer.status, principal: caller.principal, ...(answer.status >= 400 ? { error: (answer.body as { error?: string }).error } : {}) }, 'admin request');
      return answer;
    } catch (err) {
      this.log.error({ err, method, path }, 'admin request failed');
      return errorAnswer(500, 'SB_ERR_UNAVAILABLE', 'INTERNAL_ERROR', 'the broker failed to answer this admin request; its log says why');
    }
  }

  /**
   * Who asks: with authentication off, nobody needs to say; with it on, a verified client certificate,
   * a bearer token or Basic credentials the broker accepts (401 otherwise, with a log line).
   */
  private async adminCaller(req: IncomingMessage, path: string): Promise<AdminCaller | AdminAnswer> {
    const o = this.options;
    const host = clientIp(req.socket.remoteAddress);
    if (o.authenticateAdmin !== true) return { principal: null, credentials: null, host };
    const credentials = parseAuthorization(req.headers.authorization);
    let principal = await authenticate(o, req, credentials);
    if (principal === null && credentials?.kind === 'basic' && o.basic !== undefined) principal = await o.basic(credentials.username, credentials.password);
    if (principal !== null) return { principal, credentials, host };
    this.log.warn({ method: req.method, path, remote: req.socket.remoteAddress, scheme: credentials?.kind ?? null }, 'admin request without accepted credentials refused');
    const ways = [o.tls === undefined ? null : 'a client certificate signed by security.tls.caFile', o.bearer === undefined ? null : 'Authorization: Bearer <JWT>', o.basic === undefined ? null : 'Authorization: Basic (a SCRAM or PLAIN user)'].filter((w) => w !== null);
    return errorAnswer(401, 'SB_ERR_UNAUTHENTICATED', 'UNAUTHENTICATED', `authentication is on: admin requests need ${ways.length === 0 ? 'credentials this broker cannot check (no method the admin API takes is enabled)' : ways.join(', or ')}`);
  }

  /** Paths plain HTTP may ask for on a TLS port: the health checks and metrics that need no credentials. */
  private plainPaths(): string[] {
    const o = this.options;
    return [
      ...(o.healthEnabled && o.healthNeedsAuthentication !== true ? [o.livenessPath, o.readinessPath] : []),
      ...(o.metricsEnabled && o.metricsNeedAuthentication !== true ? [o.metricsPath] : []),
    ];
  }

  /** Whether a plain HTTP request on a TLS port may be answered; a line in the log when it may not. */
  private plainAllowed(req: IncomingMessage, path: string): boolean {
    const method = req.method ?? 'GET';
    const credentials = req.headers.authorization !== undefined;
    if (!credentials && (method === 'GET' || method === 'HEAD') && this.plainPaths().includes(path)) return true;
    // Never the credentials themselves: only that some were sent in the clear.
    this.log.warn({ method, path, remote: req.socket.remoteAddress, credentialsInClear: credentials }, 'plain HTTP request on the HTTPS port refused');
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const o = this.options;
    if (o.tls !== undefined && (req.socket as Partial<TLSSocket>).encrypted !== true && !this.plainAllowed(req, path)) {
      req.resume();
      res.setHeader('connection', 'close');
      sendJson(res, 400, errorAnswer(400, 'SB_ERR_INVALID_REQUEST', 'HTTPS_REQUIRED', `this port speaks HTTPS (security.tls.enabled): use https://; plain HTTP answers only ${this.plainPaths().join(', ') || 'nothing'}, without credentials`).body);
      return;
    }
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
      if (this.adminInFlight >= ADMIN_REQUESTS_IN_FLIGHT_MAX) {
        req.resume();
        sendJson(res, 503, errorAnswer(503, 'SB_ERR_UNAVAILABLE', 'TOO_MANY_REQUESTS', `more than ${ADMIN_REQUESTS_IN_FLIGHT_MAX} admin requests in flight; retry later`).body);
        return;
      }
      this.adminInFlight++;
      try {
        const answer = await this.adminAnswer(req, path);
        // A refused body may still be arriving: close the connection rather than read it.
        if (answer.status === 413) res.setHeader('connection', 'close');
        sendJson(res, answer.status, answer.body);
      } finally {
        this.adminInFlight--;
      }
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const isHealth = o.healthEnabled && (path === o.livenessPath || path === o.readinessPath);
    const isMetrics = o.metricsEnabled && path === o.metricsPath;
    if ((isHealth && o.healthNeedsAuthentication === true) || (isMetrics && o.metricsNeedAuthentication === true)) {
      if ((await this.authenticated(req, res, path, isMetrics ? 'metrics' : 'health checks')) === null) return;
    }
    if (o.healthEnabled && path === o.livenessPath) {
      sendJson(res, 200, { status: 'live' });
    } else if (o.healthEnabled && path === o.readinessPath) {
      const reason = this.readiness.notReadyReason();
      sendJson(res, reason === null ? 200 : 503, reason === null ? { status: 'ready' } : { status: 'not ready', reason });
    } else if (o.metricsEnabled && path === o.metricsPath) {
      const body = await this.metrics.render();
      res.writeHead(200, { 'content-type': this.metrics.contentType }).end(body);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }
}

/** The principal of a request's verified client certificate or bearer token; null when it has neither. */
async function authenticate(o: HttpOptions, req: IncomingMessage, credentials = parseAuthorization(req.headers.authorization)): Promise<string | null> {
  let principal = o.tls === undefined ? ANONYMOUS : o.tls.principalOf(req.socket as TLSSocket);
  if (principal === ANONYMOUS && credentials?.kind === 'bearer' && o.bearer !== undefined) principal = (await o.bearer(credentials.token)) ?? ANONYMOUS;
  return principal === ANONYMOUS ? null : principal;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body, bigintAsNumber) + '\n');
}

/**
 * A request's JSON body (undefined when empty), or the 400 / 413 answer: at most ADMIN_BODY_BYTES_MAX
 * bytes are read (a larger declared or sent body is refused without reading the rest).
 */
async function readJsonBody(req: IncomingMessage): Promise<{ value: unknown } | AdminAnswer> {
  const tooLarge = () => errorAnswer(413, 'SB_ERR_INVALID_REQUEST', 'BODY_TOO_LARGE', `request bodies are limited to ${ADMIN_BODY_BYTES_MAX} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > ADMIN_BODY_BYTES_MAX) {
    req.resume();
    return tooLarge();
  }
  // Listeners, not `for await`: leaving an async iteration early destroys the socket, and the 413 answer with it.
  const chunks: Buffer[] = [];
  const complete = await new Promise<boolean>((resolve) => {
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= ADMIN_BODY_BYTES_MAX) chunks.push(chunk);
      else {
        req.off('data', onData);
        req.resume(); // the rest is discarded; the answer closes the connection
        resolve(false);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(true));
    req.once('error', () => resolve(false));
  });
  if (!complete) return tooLarge();
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return errorAnswer(400, 'SB_ERR_INVALID_REQUEST', 'INVALID_JSON', `the request body is not JSON: ${(err as Error).message}`);
  }
}
