import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientHost } from './support/client-host.js';
import { NetnsLab } from './support/netns-hosts.js';
import { type CaseResult, CUT_MS, partitionCase } from './support/partition-case.js';
import { PartitionSystem } from './support/partition-system.js';
import {
  PartitionedCluster,
  type PartitionHandling,
  shippedHandling,
} from './support/partitioned-cluster.js';
import { ServiceProcess } from './support/processes.js';

/** PARTITION_HANDLING=ignore|autoheal measures another mode; unset: what cluster.conf ships. */
const HANDLING = process.env.PARTITION_HANDLING as PartitionHandling | undefined;
/**
 * PARTITION_RESULTS=1 writes what the cases measured to bench/results/partitions-<handling>-<time>.json
 * (npm run measure:partitions; docs/scaling.md cites the committed ones).
 */
const RESULTS = process.env.PARTITION_RESULTS === '1';

describe('the order flow across network partitions of its 3-node RabbitMQ cluster', () => {
  let lab: NetnsLab | undefined;
  let cluster: PartitionedCluster | undefined;
  let client: ClientHost | undefined;
  let system: PartitionSystem | undefined;
  const results: CaseResult[] = [];
  const startedAt = Date.now();

  beforeAll(async () => {
    lab = await NetnsLab.create(3);
    cluster = await PartitionedCluster.start(lab, HANDLING);
    client = await ClientHost.start(lab.client);
    system = await PartitionSystem.start(cluster, client, 'partitions');
  }, 240_000);

  afterAll(async () => {
    await system?.stop();
    await ServiceProcess.killAll();
    client?.stop();
    await cluster?.stop();
    await lab?.destroy();
    if (RESULTS) {
      const run = {
        handling: cluster?.handling,
        rabbitmq: '3.10.8',
        cutMs: CUT_MS,
        netTicktimeS: 10,
        durationMs: Date.now() - startedAt,
        cases: results,
      };
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = `bench/results/partitions-${cluster?.handling}-${stamp}.json`;
      writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
      process.stderr.write(`  [partitions] results in ${file}\n`);
    }
  }, 60_000);

  /** Runs a case; on failure prints the services' output (the evidence) first. */
  async function run(fault: Parameters<typeof partitionCase>[1], sku: string): Promise<void> {
    try {
      await partitionCase(system!, fault, sku, (result) => results.push(result));
    } catch (error) {
      process.stderr.write(`\n===== output of the failed case "${fault.name}" =====\n`);
      process.stderr.write(`${system!.logs().split('\n').slice(-400).join('\n')}\n`);
      process.stderr.write(`${cluster!.logTails(20)}\n===== end =====\n`);
      throw error;
    }
  }

  const host = (name: string) => lab!.host(name);

  it('runs every node with the shipped ops/rabbitmq/cluster.conf and the handling under test', async () => {
    const nodes = cluster!;
    expect(nodes.handling).toBe(HANDLING ?? shippedHandling(nodes.conf));
    for (const node of nodes.nodes) {
      expect(await nodes.setting(node, 'cluster_partition_handling')).toBe(
        `{ok,${nodes.handling}}`,
      );
      expect(await nodes.setting(node, 'queue_leader_locator')).toBe('{ok,<<"balanced">>}');
    }
  });

  it('(a) survives the host holding the queue leaders cut off', async () => {
    await system!.cluster.moveLeaders(system!.vhost, cluster!.node(host('h2')));
    await run(
      { name: 'a: queue leaders’ host (h2) cut off', minority: [host('h2')], kind: 'isolate' },
      'PART-A',
    );
  }, 240_000);

  it(
    '(b) survives the host of order (the RPC caller and its outbox relay) cut off',
    () =>
      run(
        { name: 'b: order’s host (h1) cut off', minority: [host('h1')], kind: 'isolate' },
        'PART-B',
      ),
    240_000,
  );

  it(
    '(c) survives the host of a notification replica cut off',
    () =>
      run(
        {
          name: 'c: a notification replica’s host (h3) cut off',
          minority: [host('h3')],
          kind: 'isolate',
        },
        'PART-C',
      ),
    240_000,
  );

  it(
    '(d) survives a split that leaves an inventory instance only its minority node',
    () =>
      run(
        {
          name: 'd: split h2 | h1 h3, inventory on the minority',
          minority: [host('h2')],
          kind: 'split',
        },
        'PART-D',
      ),
    240_000,
  );
});
