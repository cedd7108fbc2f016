import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { RabbitAdmin, waitFor } from '@app/messaging/testing';
import { PrivateBroker } from './private-broker.js';
import {
  type ClusterConf,
  SHIPPED_CLUSTER_CONF,
  shippedClusterConf,
} from './shipped-cluster-conf.js';
import { alive } from './pids.js';

export interface QuorumQueueStatus {
  name: string;
  leader: string;
  members: string[];
  online: string[];
}

/**
 * A RabbitMQ cluster of private nodes on this machine: `PrivateBroker`s with their own names,
 * ports and data directories, sharing the Erlang cookie of the `rabbitmq` user (every node
 * runs as that user), each configured with the shipped ops/rabbitmq/cluster.conf (its peer
 * list naming these nodes; see `shippedClusterConf`). Blank nodes started side by side may
 * each come up alone before their peers answer, so a node the first one does not count is
 * joined with `rabbitmqctl join_cluster` (https://www.rabbitmq.com/docs/clustering#creating).
 * The machine's own broker is never named, so it cannot be joined or stopped by accident.
 * Nodes can be stopped and started again (`stopNode`, `startNode`): a restarted node comes
 * back as a member, with its data.
 */
export class PrivateCluster {
  private readonly down = new Set<PrivateBroker>();

  private constructor(
    readonly nodes: readonly PrivateBroker[],
    /** What the nodes were configured with, out of the shipped file. */
    readonly conf: ClusterConf,
  ) {}

  static async start(size = 3): Promise<PrivateCluster> {
    const id = randomBytes(3).toString('hex');
    const names = Array.from({ length: size }, (_, i) => `cluster-${id}-${i + 1}`);
    const conf = shippedClusterConf(
      names.map((name) => `${name}@localhost`),
      execFileSync('rabbitmqctl', ['version']).toString().trim(),
    );
    if (conf.skipped.length > 0) {
      process.stderr.write(
        `  [cluster] ${SHIPPED_CLUSTER_CONF} lines this RabbitMQ does not know, left out: ${conf.skipped.join('; ')}\n`,
      );
    }
    const started = await Promise.allSettled(
      names.map((name) =>
        PrivateBroker.start({ name, startTimeoutMs: 90_000, config: conf.lines }),
      ),
    );
    const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const cluster = new PrivateCluster(nodes, conf);
    try {
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const [seed, ...others] = nodes;
      for (const node of others) {
        if ((await cluster.runningMembers()).includes(node.node)) continue; // found its peers
        await node.ctl('stop_app');
        await node.ctl('reset');
        await node.ctl('join_cluster', seed!.node);
        await node.ctl('start_app');
      }
      await cluster.waitForMembers();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /**
   * The value of a `rabbit` application setting on a running node, as Erlang prints it
   * (`queue_leader_locator` → `{ok,<<"balanced">>}`): what the node runs with, not the file.
   */
  async setting(node: PrivateBroker, key: string): Promise<string> {
    return (await node.ctl('eval', `application:get_env(rabbit, ${key}).`)).trim();
  }

  /** Every node's AMQP URL, in node order (what RABBITMQ_URL lists). */
  get amqpUrls(): readonly string[] {
    return this.nodes.map((n) => n.amqpUrl);
  }

  /** The management API of a running node (any node shows the whole cluster). */
  get admin(): RabbitAdmin {
    return this.running().admin;
  }

  node(name: string): PrivateBroker {
    const node = this.nodes.find((n) => n.node === name);
    if (!node) throw new Error(`${name} is not a node of this cluster`);
    return node;
  }

  /** `rabbitmqctl stop`: the whole node goes away (its connections, its queue members). */
  async stopNode(node: PrivateBroker): Promise<void> {
    this.down.add(node);
    await node.halt();
  }

  /** `kill -9` of a node: a crash, with no goodbye to its clients or its peers. */
  async crashNode(node: PrivateBroker): Promise<void> {
    this.down.add(node);
    const pid = node.kill();
    if (pid) {
      await waitFor(`${node.node} (pid ${pid}) to die`, () => !alive(pid), { timeoutMs: 10_000 });
    }
    rmSync(join(node.dir, 'pid'), { force: true }); // so no later kill() hits a reused pid
  }

  /** Boots a stopped node again and waits until the cluster counts it as running. */
  async startNode(node: PrivateBroker): Promise<void> {
    await node.boot(90_000);
    this.down.delete(node);
    await this.waitForMembers();
  }

  /**
   * Whether `node` has paused itself (`pause_minority` without a majority): the Erlang node
   * answers, its rabbit application does not run.
   */
  async paused(node: PrivateBroker): Promise<boolean> {
    return (await node.ctl('eval', 'rabbit:is_running().')).trim() === 'false';
  }

  /** Running members as the cluster sees them (asked of a running node). */
  async runningMembers(): Promise<string[]> {
    const status = JSON.parse(await this.running().ctl('cluster_status', '--formatter', 'json'));
    return [...(status as { running_nodes: string[] }).running_nodes].sort();
  }

  /** Waits until every node that is not stopped is a running member. */
  async waitForMembers(timeoutMs = 60_000): Promise<void> {
    const expected = this.nodes
      .filter((n) => !this.down.has(n))
      .map((n) => n.node)
      .sort();
    await waitFor(
      `cluster members ${expected.join(', ')} to be running`,
      // Every one of them, not exactly them: another node may finish booting meanwhile.
      async () => {
        const running = await this.runningMembers();
        return expected.every((node) => running.includes(node));
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Leader, members and members online of each quorum queue of `vhost`. */
  async quorumQueues(vhost: string): Promise<QuorumQueueStatus[]> {
    const out = await this.running().ctl(
      'list_queues', '-q', '--formatter', 'json', '-p', vhost,
      'name', 'type', 'leader', 'members', 'online',
    ); // prettier-ignore
    const rows = JSON.parse(out) as (QuorumQueueStatus & { type: string })[];
    return rows
      .filter((r) => r.type === 'quorum')
      .map(({ name, leader, members, online }) => ({ name, leader, members, online }));
  }

  queueDepths(vhost: string): Promise<Record<string, { ready: number; unacked: number }>> {
    return this.running().queueDepths(vhost);
  }

  /** Kills every node and deletes its data: nothing of it is needed any more. */
  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map(async (node) => {
        await this.crashNode(node).catch(() => undefined); // gone before its files are
        await node.stop({ kill: true });
      }),
    );
  }

  private running(): PrivateBroker {
    const node = this.nodes.find((n) => !this.down.has(n));
    if (!node) throw new Error('every node of the cluster is stopped');
    return node;
  }
}
