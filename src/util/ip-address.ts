/**
 * A socket's remote address as ACL hosts and logs name a client: an IPv4 client on a dual-stack
 * socket (`::ffff:10.0.0.7`) as plain IPv4.
 */
export function clientIp(remoteAddress: string | undefined): string {
  return (remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}
