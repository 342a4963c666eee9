/**
 * The TLS settings every listener of a broker shares (Kafka, inter-broker, HTTP): the checked
 * certificate material (tls-material.ts), the protocol floor and ciphers, and whether clients must
 * present a certificate. Certificates rotate without a restart: reload() (on SIGHUP, or when a file
 * changes) reads and checks the files again and, only if they pass, hands the listeners a new context;
 * open connections keep the one they started with. A failed reload keeps the current certificate and
 * says why at error level.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { certificatePrincipal } from './principal.ts';
import { parsePrincipalRules, type PrincipalRule } from './principal-rules.ts';
import { loadTlsMaterial, TlsMaterialError, type TlsFileSettings, type TlsMaterial } from './tls-material.ts';

/** The log lines ServerTls writes (the broker's logger fits). */
export interface TlsLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ServerTlsSettings extends TlsFileSettings {
  /** 'TLSv1.2' or 'TLSv1.3': the oldest protocol accepted. */
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2 ('' keeps Node's defaults); TLS 1.3 suites are always Node's. */
  readonly ciphers: string;
  /** Clients must present a certificate signed by the CA bundle. */
  readonly clientAuthRequired: boolean;
  /** Kafka's ssl.principal.mapping.rules for client certificates (principal-rules.ts); '' for the CN. */
  readonly principalMappingRules?: string;
}

/** A certificate this close to expiry is warned about at every check. */
export const EXPIRY_WARNING_MS = 30 * 86_400_000;
/** How often the files are polled for changes (fs.watchFile; works on every file system and runtime). */
const WATCH_INTERVAL_MS = 5_000;
/** How often the expiry warning is repeated while it applies. */
const EXPIRY_CHECK_MS = 86_400_000;

export class ServerTls {
  private listeners: (() => void)[] = [];
  private readonly rules: readonly PrincipalRule[];
  private watching = false;
  private expiryTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly settings: ServerTlsSettings,
    private current: TlsMaterial,
    private readonly log: TlsLog,
  ) {
    this.rules = parsePrincipalRules(settings.principalMappingRules ?? '');
  }

  /** The principal of a connection on a listener with these settings (`User:ANONYMOUS` without a verified certificate). */
  principalOf(socket: TLSSocket): string {
    return certificatePrincipal(socket, this.rules);
  }

  /** Loads and checks the files; throws TlsMaterialError naming every problem. */
  static load(settings: ServerTlsSettings, log: TlsLog): ServerTls {
    const tls = new ServerTls(settings, loadTlsMaterial(settings), log);
    tls.describe('TLS certificate loaded');
    return tls;
  }

  get material(): TlsMaterial {
    return this.current;
  }

  /** Seconds until the certificate expires (negative once it has). */
  expirySeconds(now = Date.now()): number {
    return (this.current.notAfter.getTime() - now) / 1000;
  }

  /** The certificate and protocol settings of a context (for servers, and for this broker dialing its peers). */
  contextOptions(): SecureContextOptions {
    const m = this.current;
    return {
      cert: m.cert,
      key: m.key,
      ...(m.passphrase === undefined ? {} : { passphrase: m.passphrase }),
      ...(m.ca === undefined ? {} : { ca: m.ca }),
      minVersion: this.settings.minVersion,
      ...(this.settings.ciphers === '' ? {} : { ciphers: this.settings.ciphers }),
    };
  }

  /** Options of a server that asks for client certificates and, when `require`, refuses clients without a valid one. */
  serverOptions(require = this.settings.clientAuthRequired): TlsOptions {
    return { ...this.contextOptions(), requestCert: require || this.current.ca !== undefined, rejectUnauthorized: require };
  }

  /** Called after every successful reload (servers then call setSecureContext). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reads the files again; true when the new ones passed and are now in use. */
  reload(reason: string): boolean {
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.settings);
    } catch (err) {
      const problems = err instanceof TlsMaterialError ? err.problems : [{ key: 'security.tls.certFile', file: this.settings.certFile, problem: String(err) }];
      this.log.error({ reason, problems }, 'TLS files not reloaded: they fail their checks; the current certificate stays in use');
      return false;
    }
    const changed = next.fingerprint256 !== this.current.fingerprint256 || !next.key.equals(this.current.key) || !bufferEquals(next.ca, this.current.ca);
    this.current = next;
    if (changed) {
      this.describe('TLS certificate reloaded', reason);
      for (const listener of this.listeners) listener();
    }
    return true;
  }

  /** Reloads when any of the files changes, and repeats the expiry warning daily. */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    for (const path of this.files()) {
      watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, (now: Stats, before: Stats) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) this.reload(`${path} changed`);
      });
    }
    this.expiryTimer = setInterval(() => this.warnIfExpiring(), EXPIRY_CHECK_MS);
    this.expiryTimer.unref();
  }

  stop(): void {
    if (!this.watching) return;
    this.watching = false;
    for (const path of this.files()) unwatchFile(path);
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
  }

  private files(): string[] {
    const { certFile, keyFile, caFile } = this.settings;
    return caFile === '' ? [certFile, keyFile] : [certFile, keyFile, caFile];
  }

  private describe(message: string, reason?: string): void {
    const m = this.current;
    this.log.info(
      { ...(reason === undefined ? {} : { reason }), subject: m.subject, issuer: m.issuer, notAfter: m.notAfter.toISOString(), fingerprint256: m.fingerprint256, minVersion: this.settings.minVersion, clientAuthRequired: this.settings.clientAuthRequired },
      message,
    );
    this.warnIfExpiring();
  }

  private warnIfExpiring(): void {
    const left = this.current.notAfter.getTime() - Date.now();
    if (left < EXPIRY_WARNING_MS) {
      this.log.warn({ certFile: this.settings.certFile, notAfter: this.current.notAfter.toISOString(), days: Math.floor(left / 86_400_000) }, 'TLS certificate expires within 30 days: renew it (the broker reloads it without a restart)');
    }
  }
}

function bufferEquals(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}
