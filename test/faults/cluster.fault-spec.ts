import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventsQueue, rpcQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { type FaultSystem, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';
import type { OrderLoad } from './support/order-load.js';
import type { PrivateBroker } from './support/private-broker.js';
import { PrivateCluster, type QuorumQueueStatus } from './support/private-cluster.js';
import { ServiceProcess } from './support/processes.js';
import { settingValue } from './support/shipped-cluster-conf.js';

const SKU = 'FAULT-CLUSTER';
const STOCK = 10_000;
const NODES = 3;
/** The queues every order passes through. */
const WORK_QUEUES = [rpcQueue('inventory'), eventsQueue('inventory'), eventsQueue('notification')];

describe('a 3-node RabbitMQ cluster with quorum queues', () => {
  let cluster: PrivateCluster | undefined;

  beforeAll(async () => {
    cluster = await PrivateCluster.start(NODES);
  }, 150_000);

  afterAll(async () => {
    await ServiceProcess.killAll();
    await cluster?.stop();
  }, 60_000);

  it('runs every node with the shipped ops/rabbitmq/cluster.conf', async () => {
    const nodes = cluster!;
    expect(settingValue(nodes.conf, 'queue_leader_locator')).toBe('balanced');
    for (const node of nodes.nodes) {
      // Read from the running node: the settings it took, not the file written for it.
      expect(await nodes.setting(node, 'queue_leader_locator')).toBe('{ok,<<"balanced">>}');
      expect(await nodes.setting(node, 'cluster_partition_handling')).toBe('{ok,pause_minority}');
      const peers = await nodes.setting(node, 'cluster_nodes');
      for (const peer of nodes.nodes) expect(peers).toContain(`'${peer.node}'`);
    }
  });

  it(
    'keeps taking orders when a node stops or crashes, even the one leading the queues, and the node rejoins',
    () =>
      withFaultSystem(
        cluster!,
        'cluster',
        // RABBITMQ_URL lists the three nodes (FaultSystem passes every URL of the broker).
        { env: { RABBITMQ_QUEUE_TYPE: 'quorum' } },
        async (system) => {
          const nodes = cluster!;
          const quorum = await everyQueueReplicated(nodes, system, NODES);
          expect(quorum.map((q) => q.name)).toEqual(expect.arrayContaining(WORK_QUEUES));
          const outcome = await underLoad(
            system,
            { sku: SKU, stock: STOCK, load: { max: 800, concurrency: 2, paceMs: 200 } },
            async (load) => {
              // 1. A node leading none of the work queues is stopped (as in a rolling restart).
              const leading = await leaderOfWorkQueues(nodes, system);
              const follower = nodes.nodes.find((n) => n !== leading)!;
              const stoppedAt = Date.now();
              await nodes.stopNode(follower);
              await load.waitForConfirmed(8);
              report(load, stoppedAt, `stopped ${follower.node} (follower)`);
              await nodes.startNode(follower);
              await everyQueueReplicated(nodes, system, NODES);

              // 2. The node leading the work queues, which every service is connected to (the
              //    first URL of the list), crashes: the services fail over to the next URL and
              //    the surviving members elect new leaders.
              const leader = await leaderOfWorkQueues(nodes, system);
              const crashedAt = Date.now();
              await nodes.crashNode(leader);
              await load.waitForConfirmed(8, 60_000);
              report(load, crashedAt, `kill -9 of ${leader.node} (leader, connected)`);
              const moved = await nodes.quorumQueues(system.vhost);
              expect(moved.filter((q) => q.leader === leader.node)).toEqual([]);

              await nodes.startNode(leader);
              await everyQueueReplicated(nodes, system, NODES);
            },
          );
          expect(outcome.confirmed).toBeGreaterThanOrEqual(32);
        },
      ),
    180_000,
  );

  it(
    'holds the events in the outbox while two of three nodes are down (no quorum), then delivers each once',
    () =>
      withFaultSystem(cluster!, 'quorum', { env: { RABBITMQ_QUEUE_TYPE: 'quorum' } }, (system) =>
        underLoad(
          system,
          // 4 confirmed orders before and after the fault (not 8): the case stays cheap in CI.
          {
            sku: SKU,
            stock: STOCK,
            confirmed: 4,
            load: { max: 800, concurrency: 2, paceMs: 200 },
          },
          async () => {
            const nodes = cluster!;
            await everyQueueReplicated(nodes, system, NODES);
            // The services stay on the first URL's node; the other two go: one member of
            // three is no majority, so no quorum queue can take (or confirm) a message, and
            // the survivor, a minority of one, pauses itself (the shipped pause_minority).
            const [survivor, ...lost] = nodes.nodes;
            await Promise.all(lost.map((node) => nodes.stopNode(node)));
            // Witness: the survivor's node runs but its rabbit app does not (paused), and
            // nothing is published: outbox rows wait, the same rows still a while later.
            await waitFor('the surviving node to pause', () => nodes.paused(survivor!));
            const held = await waitFor(
              'outbox rows to wait unpublished while the quorum is lost',
              async () => {
                const ids = await unpublished(system);
                return ids.length >= 3 && ids;
              },
              { timeoutMs: 30_000 },
            );
            await waitFor(
              'orders to keep coming while the quorum is lost',
              async () => (await unpublished(system)).length > held.length,
              { timeoutMs: 30_000 },
            );
            const stillHeld = new Set(await unpublished(system));
            expect(held.filter((id) => !stillHeld.has(id))).toEqual([]);
            expect(await nodes.paused(survivor!)).toBe(true);

            await Promise.all(lost.map((node) => nodes.startNode(node)));
            await everyQueueReplicated(nodes, system, NODES);
          },
        ).then((outcome) => expect(outcome.confirmed).toBeGreaterThanOrEqual(8)),
      ),
    180_000,
  );
});

/**
 * Waits until every quorum queue of the system has `size` members, all online, and returns
 * them (the restarted node's members have caught up with their leader).
 */
async function everyQueueReplicated(
  cluster: PrivateCluster,
  system: FaultSystem,
  size: number,
): Promise<QuorumQueueStatus[]> {
  return waitFor(
    `every quorum queue to have ${size} members online`,
    async () => {
      const queues = await cluster.quorumQueues(system.vhost);
      const replicated = queues.every((q) => q.members.length === size && q.online.length === size);
      return queues.length > 0 && replicated && queues;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

/** The node leading most of the work queues (with one client-local leader, all of them). */
async function leaderOfWorkQueues(
  cluster: PrivateCluster,
  system: FaultSystem,
): Promise<PrivateBroker> {
  const queues = await cluster.quorumQueues(system.vhost);
  const leaders = queues.filter((q) => WORK_QUEUES.includes(q.name)).map((q) => q.leader);
  const most = leaders.sort((a, b) => count(leaders, b) - count(leaders, a))[0];
  return cluster.node(most!);
}

function count(values: readonly string[], value: string): number {
  return values.filter((v) => v === value).length;
}

/**
 * Failover time: from the fault to the answer of the first order that was placed after it and
 * confirmed (the whole flow works again: HTTP, RPC, database, outbox). Also the longest time
 * without any confirmation since the fault, and how many orders were rejected meanwhile.
 */
function report(load: OrderLoad, faultAt: number, what: string): void {
  const confirmed = load.accepted.filter((o) => o.status === 'CONFIRMED');
  const first = Math.min(...confirmed.filter((o) => o.sentAt >= faultAt).map((o) => o.answeredAt));
  const answers = [faultAt, ...confirmed.map((o) => o.answeredAt).filter((t) => t >= faultAt)];
  const gap = Math.max(...answers.sort((a, b) => a - b).map((t, i) => t - (answers[i - 1] ?? t)));
  const rejected = load.accepted.filter((o) => o.status !== 'CONFIRMED' && o.sentAt >= faultAt);
  process.stderr.write(
    `  [cluster] ${what}: first order placed after it confirmed ${first - faultAt} ms later; ` +
      `longest time without a confirmation ${gap} ms; ${rejected.length} order(s) rejected\n`,
  );
}

/** Ids of the outbox rows (order and inventory) not published yet. */
async function unpublished(system: FaultSystem): Promise<string[]> {
  const { rows } = await system.db.query<{ id: string }>(
    `select 'orders:' || id as id from orders.outbox_messages where published_at is null
     union all
     select 'inventory:' || id from inventory.outbox_messages where published_at is null`,
  );
  return rows.map((r) => r.id);
}
