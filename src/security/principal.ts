/**
 * Who is on the other end of a connection, as Kafka names it: `User:<name>`. With TLS client
 * certificates (security.authentication.method mtls) the name comes from the verified certificate's
 * subject: its CN, or what the principal mapping rules make of its distinguished name
 * (principal-rules.ts). A connection without a verified certificate is `User:ANONYMOUS`, as in Kafka.
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { mapPrincipal, rfc2253, type PrincipalRule } from './principal-rules.ts';

export const ANONYMOUS = 'User:ANONYMOUS';
/** The key under which a connection's principal is kept in its per-connection state. */
export const PRINCIPAL_STATE = 'principal';

/** The key under which a connection's verified certificate subject is kept (its fields, e.g. O and OU). */
export const CERTIFICATE_SUBJECT_STATE = 'certificate-subject';

/** A verified client certificate's subject fields (a field given twice: its values in order); null without one. */
export function certificateSubject(socket: TLSSocket): Readonly<Record<string, string | string[]>> | null {
  if (!socket.authorized) return null;
  const subject = socket.getPeerCertificate()?.subject as unknown as Record<string, string | string[]> | undefined;
  return subject === undefined ? null : { ...subject };
}

/** The principal of a TLS connection: from its verified client certificate, else ANONYMOUS. */
export function certificatePrincipal(socket: TLSSocket, rules: readonly PrincipalRule[] = []): string {
  if (!socket.authorized) return ANONYMOUS;
  const peer = socket.getPeerCertificate();
  const cnField = peer?.subject?.CN;
  const cn = (Array.isArray(cnField) ? cnField[0] : cnField) ?? '';
  let name = cn;
  if (rules.length > 0 && peer?.raw !== undefined) name = mapPrincipal(rules, rfc2253(new X509Certificate(peer.raw).subject), cn);
  return name === '' ? ANONYMOUS : `User:${name}`;
}
