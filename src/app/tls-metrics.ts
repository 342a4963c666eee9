/**
 * `streambus_tls_certificate_expiry_seconds`: seconds until the broker's TLS certificate expires
 * (negative once it has), read at each scrape, so an alert can fire well before the 30-day log warning.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ServerTls } from '../security/server-tls.ts';

export function registerTlsMetrics(registry: Registry, tls: ServerTls): void {
  new Gauge({
    name: 'streambus_tls_certificate_expiry_seconds',
    help: 'Seconds until the TLS certificate in security.tls.certFile expires (negative once expired)',
    registers: [registry],
    collect() {
      this.set(Math.round(tls.expirySeconds()));
    },
  });
}
