/**
 * One request to a broker's admin API for tests: JSON in (a value, or raw text or bytes to send as they
 * are, optionally in chunks without a Content-Length), status and parsed JSON out. Over HTTPS when a CA
 * is given. Bounded by a timeout.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';

export interface AdminReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

export interface AdminCallOptions {
  /** A value sent as JSON, or a string or Buffer sent as it is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the raw body in pieces of this many bytes without a Content-Length (chunked encoding). */
  chunkBytes?: number;
  /** HTTPS trusting this CA file, with an optional client certificate. */
  tls?: { ca: string; cert?: string; key?: string };
  timeoutMs?: number;
}

export function adminCall(port: number, method: string, path: string, o: AdminCallOptions = {}): Promise<AdminReply> {
  const raw = o.body === undefined ? null : typeof o.body === 'string' || Buffer.isBuffer(o.body) ? Buffer.from(o.body as string | Buffer) : Buffer.from(JSON.stringify(o.body));
  const headers: Record<string, string> = { ...(raw === null ? {} : { 'content-type': 'application/json' }), ...o.headers };
  if (raw !== null && o.chunkBytes === undefined) headers['content-length'] = String(raw.length);
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path,
      method,
      headers,
      agent: false,
      ...(o.tls === undefined ? {} : { ca: readFileSync(o.tls.ca), ...(o.tls.cert === undefined ? {} : { cert: readFileSync(o.tls.cert), key: readFileSync(o.tls.key!) }) }),
    };
    const req = (o.tls === undefined ? httpRequest : httpsRequest)(options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path} got no answer in time`)));
    // A server that answers before reading a whole body may close the socket while it is still being
    // written: the answer is what counts, not the write error.
    req.on('error', reject);
    if (raw !== null && o.chunkBytes !== undefined) {
      for (let at = 0; at < raw.length; at += o.chunkBytes) req.write(raw.subarray(at, at + o.chunkBytes));
    } else if (raw !== null) req.write(raw);
    req.end();
  });
}
