/**
 * `streambus cluster status`: cluster id, controller, brokers, topic and partition counts
 * (admin/cluster-operations.ts, shared with GET /api/v1/cluster), and with --http the broker's
 * readiness (/health/ready) and each broker's state from the admin API. Exits 1 when the readiness
 * check fails, so scripts and probes can use it.
 */
import type { Argv } from 'yargs';
import { CommandError, out, printJson, runWithClient, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';
import { baseUrl, httpCall } from '../http-request.ts';
import { tlsFromArgs } from '../tls-options.ts';
import type { ConnectionOptions } from 'node:tls';
import type { CliServices } from '../services.ts';
import { call } from './broker-admin.ts';
import { clusterStatus } from '../../admin/cluster-operations.ts';
import type { BrokerStatus } from '../../admin/broker-status.ts';

interface Health {
  url: string;
  ready: boolean;
  status: number | null;
  body: string;
}

async function readiness(address: string, tls: ConnectionOptions | undefined, timeoutMs: number): Promise<Health> {
  const url = `${baseUrl(address, tls)}/health/ready`;
  try {
    const res = await httpCall(url, 'GET', tls, timeoutMs);
    return { url, ready: res.status === 200, status: res.status, body: res.body.trim() };
  } catch (err) {
    return { url, ready: false, status: null, body: err instanceof Error ? err.message : String(err) };
  }
}

export function clusterCommand(y: Argv, _services: CliServices): Argv {
  return y.command('cluster', 'Cluster information', (c) =>
    withClientOptions(c)
      .command(
        'status',
        'Brokers, controller, cluster id, topic and partition counts (and readiness with --http)',
        (s) => s.option('http', { type: 'string', describe: "A broker's HTTP address (host:port or URL) to check /health/ready" }).example('$0 cluster status --http 127.0.0.1:8081', ''),
        (argv) =>
          runWithClient(argv, async (client) => {
            const tls = tlsFromArgs(argv);
            const health = argv.http === undefined ? null : await readiness(argv.http, tls, argv.requestTimeoutMs);
            // Broker states come from the admin API (GET /api/v1/brokers); without --http they are unknown.
            const states = argv.http === undefined ? [] : await call<BrokerStatus[]>({ ...argv, http: argv.http, json: false }, 'GET', '/api/v1/brokers').catch(() => []);
            const status = { ...(await clusterStatus(client, states)), health };
            if (argv.json) await printJson(status);
            else {
              let text =
                `cluster id   ${status.clusterId ?? '-'}\ncontroller   ${status.controllerId}\ntopics       ${status.topics} (+${status.internalTopics} internal)\n` +
                `partitions   ${status.partitions} (${status.leaderless} without a leader, ${status.underReplicated} under-replicated)\n`;
              if (health) text += `health       ${health.ready ? 'ready' : 'NOT READY'} (${health.url}: ${health.status ?? 'unreachable'} ${health.body})\n`;
              text +=
                '\n' +
                formatTable(
                  ['BROKER', 'HOST', 'PORT', 'RACK', 'STATE', 'ROLE', 'LEADS', 'REPLICAS', 'UNDER-REPLICATED'],
                  status.brokers.map((b) => [String(b.nodeId), b.host, String(b.port), b.rack ?? '-', b.state, b.nodeId === status.controllerId ? 'controller' : '', String(b.leads), String(b.replicas), String(b.underReplicated)]),
                );
              await out(text);
            }
            if (health && !health.ready) throw new CommandError(`broker is not ready (${health.url}: ${health.status ?? health.body})`);
          }),
      )
      .demandCommand(1, 'Name a cluster command: status.'),
  );
}
