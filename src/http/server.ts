/**
 * The broker's HTTP endpoint on server.httpPort: liveness, readiness and Prometheus metrics.
 * Liveness answers 200 whenever the process serves HTTP. Readiness answers 200 only once the broker
 * reports ready (storage recovered and the Kafka listener accepting), 503 before and while stopping.
 *
 * With TLS (security.tls) it serves HTTPS only. Client certificates are asked for but not required,
 * so health probes and scrapers need none; with authentication on, the admin routes that change
 * something take only a client with a verified certificate (401 otherwise).
 */
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { ServerTls } from '../security/server-tls.ts';
import { ANONYMOUS } from '../security/principal.ts';
import { clientIp } from '../util/ip-address.ts';
import type { BrokerMetrics } from '../observability/metrics.ts';
import type { Logger } from '../observability/logger.ts';

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
  /** Admin changes need a verified client certificate (security.authentication.enabled), or a bearer token `bearer` accepts. */
  authenticateAdmin?: boolean;
  /** Checks an `Authorization: Bearer` token (method jwt): the principal, or null when refused. */
  bearer?: (token: string) => Promise<string | null>;
  /** Serve metrics / health only to clients with a verified certificate or bearer token (401 otherwise). */
  metricsNeedAuthentication?: boolean;
  healthNeedsAuthentication?: boolean;
  /** With authorization on: whether an authenticated principal may change the cluster (ALTER on it); 403 when not. */
  mayAlterCluster?: (principal: string, host: string) => boolean;
}

/** An answer of the admin routes: an HTTP status and a JSON body. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** Routes beyond health and metrics (the cluster's admin API, app/cluster-admin.ts); null when a path is not theirs. */
export interface AdminRoutes {
  handle(method: string, path: string): Promise<AdminAnswer> | null;
}

export interface ReadinessSource {
  /** Null when ready; otherwise the reason the broker is not ready, shown in the 503 body. */
  notReadyReason(): string | null;
}

export class HttpServer {
  private server: Server | null = null;

  constructor(
    private readonly options: HttpOptions,
    private readonly metrics: BrokerMetrics,
    private readonly readiness: ReadinessSource,
    private readonly log: Logger,
    /** The admin routes once there are any (a cluster broker, after joining); null before and on a lone broker. */
    private readonly admin: () => AdminRoutes | null = () => null,
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
    let server: Server;
    if (tls === undefined) server = createServer(serve);
    else {
      const https = createHttpsServer(tls.serverOptions(false), serve);
      https.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => this.log.warn({ remote: socket.remoteAddress, code: err.code, reason: err.message }, 'TLS handshake with an HTTP client failed'));
      tls.onChange(() => https.setSecureContext(tls.serverOptions(false)));
      server = https;
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
    server.closeIdleConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const o = this.options;
    if (path.startsWith('/v1/')) {
      req.resume();
      const admin = this.admin();
      if (req.method !== 'GET' && o.authenticateAdmin === true) {
        const principal = await this.authenticated(req, res, path, 'admin changes');
        if (principal === null) return;
        if (o.mayAlterCluster !== undefined && !o.mayAlterCluster(principal, clientIp(req.socket.remoteAddress))) {
          sendJson(res, 403, { error: 'FORBIDDEN', message: `${principal} may not change the cluster: ALTER on the cluster (an ACL, or security.authorization.superUsers) is needed` });
          return;
        }
        this.log.info({ method: req.method, path, principal }, 'admin request authenticated');
      }
      const answer = admin?.handle(req.method ?? 'GET', path) ?? null;
      if (answer === null) {
        const why = admin === null ? 'the admin API serves brokers of a cluster (cluster.nodes), once joined' : `no ${req.method} ${path}`;
        sendJson(res, 404, { error: 'NOT_FOUND', message: why });
        return;
      }
      const { status, body } = await answer;
      if (req.method !== 'GET') this.log.info({ method: req.method, path, status }, 'admin request');
      sendJson(res, status, body);
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

/**
 * The principal of a request's verified client certificate or bearer token; null (after answering 401
 * and logging, rate-limited by the caller's logger) when it has neither.
 */
async function authenticate(o: HttpOptions, req: IncomingMessage): Promise<string | null> {
  let principal = o.tls === undefined ? ANONYMOUS : o.tls.principalOf(req.socket as TLSSocket);
  const bearer = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (principal === ANONYMOUS && bearer !== undefined && o.bearer !== undefined) principal = (await o.bearer(bearer)) ?? ANONYMOUS;
  return principal === ANONYMOUS ? null : principal;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
}
