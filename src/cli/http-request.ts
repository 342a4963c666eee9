/**
 * One request to a broker's HTTP port for the CLI (readiness, admin API), over HTTPS with the CLI's
 * TLS options when the address is an https:// URL or TLS options were given.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionOptions } from 'node:tls';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

/** `address` is host:port or a URL; the base URL it means (https when `tls` is given and no scheme is). */
export function baseUrl(address: string, tls: ConnectionOptions | undefined): string {
  if (/^https?:\/\//.test(address)) return address.replace(/\/+$/, '');
  return `${tls === undefined ? 'http' : 'https'}://${address}`;
}

export function httpCall(url: string, method: string, tls: ConnectionOptions | undefined, timeoutMs: number, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https://');
    const options = { method, timeout: timeoutMs, headers, ...(secure && tls !== undefined ? tls : {}) };
    const req = (secure ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
