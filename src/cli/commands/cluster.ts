/**
 * `streambus cluster status`: cluster id, controller, brokers, topic and partition counts, and with
 * --http the broker's readiness (/health/ready) and, on a cluster, each broker's state from the admin
 * API (active, draining, drained, or dead when the brokers cannot reach it; a dead broker is missing
 * from Metadata, as Kafka lists live brokers only). Exits 1 when the readiness check fails, so scripts
 * and probes can use it.
 */
import type { Argv } from 'yargs';
import { isStreamBusError } from '../../util/errors.ts';
import { CommandError, out, printJson, runWithClient, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';
import { baseUrl, httpCall } from '../http-request.ts';
import { tlsFromArgs } from '../tls-options.ts';
import type { ConnectionOptions } from 'node:tls';
import type { CliServices } from '../services.ts';
import { call, type BrokerStatus } from './broker-admin.ts';

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
            const md = await client.metadata(null);
            // DescribeCluster (KIP-700) is authoritative where the broker has it; Metadata says the same otherwise.
            let cluster = { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers };
            try {
              cluster = await client.describeCluster();
            } catch (err) {
              if (!isStreamBusError(err, 'SB_ERR_UNSUPPORTED_VERSION')) throw err;
            }
            const topics = md.topics.filter((t) => t.error === null);
            const all = topics.flatMap((t) => t.partitions);
            const perBroker = (id: number) => ({
              leads: all.filter((p) => p.leader === id).length,
              replicas: all.filter((p) => p.replicas.includes(id)).length,
              // Led here with fewer in-sync replicas than assigned ones.
              underReplicated: all.filter((p) => p.leader === id && p.isr.length < p.replicas.length).length,
            });
            const tls = tlsFromArgs(argv);
            const health = argv.http === undefined ? null : await readiness(argv.http, tls, argv.requestTimeoutMs);
            // The admin API answers on brokers of a cluster only; a single broker has no states to add.
            const admin = argv.http === undefined ? [] : await call<BrokerStatus[]>({ ...argv, http: argv.http, json: false }, 'GET', '/v1/brokers').catch(() => []);
            const stateOf = (id: number): string => {
              const known = admin.find((a) => a.id === id);
              // A drained broker is expected to be stopped; any other that cannot be reached is dead.
              return known === undefined ? '-' : known.reachable || known.state === 'drained' ? known.state : 'dead';
            };
            const live = cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }));
            const dead = admin.filter((a) => !live.some((b) => b.nodeId === a.id)).map((a) => ({ nodeId: a.id, host: a.host, port: a.port, rack: a.rack }));
            const status = {
              clusterId: cluster.clusterId,
              controllerId: cluster.controllerId,
              brokers: [...live, ...dead].sort((a, b) => a.nodeId - b.nodeId).map((b) => ({ ...b, state: stateOf(b.nodeId), ...perBroker(b.nodeId) })),
              topics: topics.filter((t) => !t.isInternal).length,
              internalTopics: topics.filter((t) => t.isInternal).length,
              partitions: all.length,
              leaderless: all.filter((p) => p.leader < 0).length,
              underReplicated: all.filter((p) => p.leader >= 0 && p.isr.length < p.replicas.length).length,
              health,
            };
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
