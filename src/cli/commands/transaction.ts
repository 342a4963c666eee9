/**
 * `streambus transaction list|describe`: the transactional ids the brokers coordinate (ListTransactions
 * on every broker, filtered by state, producer id or age) and one id's state, producer and open
 * partitions (DescribeTransactions at its coordinator). With authorization on, ids the caller may not
 * DESCRIBE are left out of the list, and describing one needs DESCRIBE on it.
 */
import type { Argv } from 'yargs';
import { integerOption, out, printJson, runWithClient, UsageError, withClientOptions } from '../client-command.ts';
import { formatTable } from '../format.ts';

export function transactionCommand(y: Argv): Argv {
  return y.command('transaction', "List and describe transactions (Kafka's exactly-once producers)", (t) =>
    withClientOptions(t)
      .command(
        'list',
        'Transactional ids and their state, from every broker',
        (c) =>
          c
            .option('state', { type: 'string', array: true, describe: 'Only these states (Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort)' })
            .option('producer-id', { type: 'string', array: true, describe: 'Only these producer ids' })
            .option('longer-than-ms', { type: 'number', describe: 'Only transactions open longer than this' })
            .example('$0 transaction list --state Ongoing --longer-than-ms 60000', 'transactions open for more than a minute'),
        (argv) =>
          runWithClient(argv, async (client) => {
            const producerIds = (argv['producer-id'] ?? []).map((p) => {
              if (!/^\d{1,19}$/.test(p)) throw new UsageError(`--producer-id ${p}: not a producer id`);
              return BigInt(p);
            });
            const longerThanMs = integerOption('--longer-than-ms', argv['longer-than-ms']);
            const listed = await client.listTransactions({ states: argv.state ?? [], producerIds, ...(longerThanMs === undefined ? {} : { longerThanMs }) });
            if (argv.json) await printJson(listed);
            else await out(formatTable(['TRANSACTIONAL ID', 'STATE', 'PRODUCER ID', 'COORDINATOR'], listed.map((t) => [t.transactionalId, t.state, String(t.producerId), String(t.coordinator)])));
          }),
      )
      .command(
        'describe <id>',
        "One transactional id: its state, producer, timeout and the partitions of its open transaction",
        (c) => c.positional('id', { type: 'string', demandOption: true, describe: 'The transactional id' }),
        (argv) =>
          runWithClient(argv, async (client) => {
            const d = await client.describeTransaction(argv.id);
            if (argv.json) {
              await printJson(d);
              return;
            }
            const open = d.startTimeMs >= 0 ? `${new Date(d.startTimeMs).toISOString()} (${Math.max(0, Date.now() - d.startTimeMs)} ms ago)` : '-';
            const partitions = d.partitions.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)).join(', ') || '-';
            await out(
              formatTable(
                ['FIELD', 'VALUE'],
                [
                  ['transactional id', d.transactionalId],
                  ['state', d.state],
                  ['producer', `${d.producerId} epoch ${d.producerEpoch}`],
                  ['timeout', `${d.timeoutMs} ms`],
                  ['open since', open],
                  ['partitions', partitions],
                  ['coordinator', String(d.coordinator)],
                ],
              ),
            );
          }),
      )
      .demandCommand(1, 'Name a transaction command: list or describe.'),
  );
}
