/**
 * Who is on the other end of a connection, as Kafka names it: `User:<name>`. With TLS client
 * certificates (security.authentication.method mtls) the name is the verified certificate's subject
 * CN; a connection without a verified certificate is `User:ANONYMOUS`, as in Kafka.
 */
import type { TLSSocket } from 'node:tls';

export const ANONYMOUS = 'User:ANONYMOUS';
/** The key under which a connection's principal is kept in its per-connection state. */
export const PRINCIPAL_STATE = 'principal';

/** The principal of a TLS connection: the CN of its verified client certificate, else ANONYMOUS. */
export function certificatePrincipal(socket: TLSSocket): string {
  if (!socket.authorized) return ANONYMOUS;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return name === undefined || name === '' ? ANONYMOUS : `User:${name}`;
}
