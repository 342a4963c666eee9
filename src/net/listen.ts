/** Starting a node:net server, shared by the Kafka and inter-broker listeners. */
import type { Server } from 'node:net';

/** Resolves with the bound port (the one asked for, or the one picked for port 0) once `server` accepts connections. */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: 1024 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
