import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@app/messaging/testing';
import { type Host, NetnsLab } from './netns-hosts.js';
import {
  connectionName,
  type QueueDepths,
  queueDepthsArgs,
  queueDepthsFrom,
} from './private-broker.js';
import { type ClusterConf, settingValue, shippedClusterConf } from './shipped-cluster-conf.js';

const BIN = '/usr/lib/rabbitmq/bin';
const PEER_KEY = /^cluster_formation\.classic_config\.nodes\./;
/** Prints `<app running>|<running members>|<partitioned from>` (see view()). */
const VIEW = [
  'J = fun(Ns) -> string:join([atom_to_list(N) || N <- Ns], ",") end,',
  'Run = try rabbit_mnesia:cluster_nodes(running) catch _:_ -> [] end,',
  'P = try rabbit_node_monitor:partitions() catch _:_ -> [] end,',
  'io:format("~s|~s|~s~n", [rabbit:is_running(), J(Run), J(P)]).',
].join(' ');
export type PartitionHandling = 'pause_minority' | 'autoheal' | 'ignore';

/** One RabbitMQ node, alone on its host. */
export interface RabbitNode {
  readonly host: Host;
  /** `rabbit@10.77.0.<i>` (long names: the machine's host name is not fully qualified). */
  readonly name: string;
  readonly amqpUrl: string;
  readonly dir: string;
}

/** What a node says about the cluster (`rabbitmqctl cluster_status`). */
export interface ClusterView {
  running: string[];
  /** Per node, the nodes it is partitioned from, as that node reported. */
  partitions: Record<string, string[]>;
  /** False while the node's rabbit app is stopped (a paused minority node). */
  appRunning: boolean;
}

/**
 * A RabbitMQ cluster of one node per lab host (../../../shared/PARTITIONS.md has the pitfalls
 * this follows): the server and CLI are run directly (the /usr/sbin wrappers switch to the
 * rabbitmq user and its cookie), with a private HOME holding the run's cookie, an empty
 * RABBITMQ_CONF_ENV_FILE (the machine's pins rabbit@localhost and loopback), an epmd of each
 * host's own, and every directory under one temporary directory. The nodes take the shipped
 * ops/rabbitmq/cluster.conf, `net_ticktime = 10` (peers are declared lost after ~10 s instead
 * of 60) and the partition handling under test. The seed node starts first with no peer list
 * (all at once deadlocked or formed two clusters), the others join it one by one.
 */
export class PartitionedCluster {
  private readonly children: ChildProcess[] = [];

  private constructor(
    readonly lab: NetnsLab,
    readonly nodes: readonly RabbitNode[],
    readonly conf: ClusterConf,
    readonly handling: PartitionHandling,
    private readonly root: string,
  ) {}

  /** `handling` defaults to what the shipped file sets. */
  static async start(lab: NetnsLab, handling?: PartitionHandling): Promise<PartitionedCluster> {
    const root = join(tmpdir(), `p18-${process.pid}-${randomBytes(3).toString('hex')}`);
    removeLeftoverDirs();
    const nodes = lab.hosts.map((host) => ({
      host,
      name: `rabbit@${host.address}`,
      amqpUrl: `amqp://guest:guest@${host.address}:5672`,
      dir: join(root, host.name),
    }));
    const version = execFileSync(`${BIN}/rabbitmqctl`, ['version']).toString().trim();
    const conf = shippedClusterConf(
      nodes.map((n) => n.name),
      version,
    );
    const cluster = new PartitionedCluster(
      lab,
      nodes,
      conf,
      handling ?? shippedHandling(conf),
      root,
    );
    try {
      cluster.writeFiles();
      for (const node of nodes) {
        await cluster.boot(node);
        await cluster.waitForMembers(
          node === nodes[0] ? [node] : nodes.slice(0, nodes.indexOf(node) + 1),
        );
      }
      // A just-joined node refuses quorum queue declarations (541) until it enabled the flag.
      await waitFor(
        'the quorum_queue feature flag on every node',
        async () => {
          for (const node of nodes) if (!(await cluster.quorumQueuesEnabled(node))) return false;
          return true;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
    } catch (error) {
      process.stderr.write(cluster.logTails());
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  node(host: Host): RabbitNode {
    return this.nodes.find((n) => n.host === host)!;
  }

  /** `rabbitmqctl -n <node> …` run on the node's own host (it is reachable from there only). */
  async ctl(node: RabbitNode, ...args: string[]): Promise<string> {
    return this.lab.exec(
      node.host,
      `${BIN}/rabbitmqctl`,
      ['-n', node.name, ...args],
      this.env(node),
    );
  }

  /**
   * The node's own view of the cluster, in one CLI call (each costs a second of CPU here):
   * whether its rabbit app runs (a paused minority node's does not, and `cluster_status`
   * then refuses to answer), the members it counts as running, and the nodes it recorded a
   * partition with (`rabbit_node_monitor`, what `cluster_status` lists as partitions).
   */
  async view(node: RabbitNode): Promise<ClusterView> {
    const out = await this.ctl(node, 'eval', VIEW);
    const [app = '', running = '', partitioned = ''] = out.split('\n')[0]!.trim().split('|');
    const list = (text: string) => text.split(',').filter(Boolean).sort();
    const partitions = list(partitioned).length > 0 ? { [node.name]: list(partitioned) } : {};
    return { running: list(running), partitions, appRunning: app === 'true' };
  }

  /** Every node's view, asked of each node on its own host. */
  async views(): Promise<Map<RabbitNode, ClusterView>> {
    const views = await Promise.all(this.nodes.map((n) => this.view(n)));
    return new Map(this.nodes.map((n, i) => [n, views[i]!]));
  }

  /** Until every node runs its app, counts all nodes as running and reports no partition. */
  async waitHealthy(timeoutMs = 90_000): Promise<void> {
    const all = this.nodes.map((n) => n.name).sort();
    let last = '';
    await waitFor(
      'every node to run, see all the others and no partition',
      async () => {
        const views = await this.views();
        last = JSON.stringify([...views].map(([n, v]) => [n.name, v]));
        return [...views.values()].every(
          (v) =>
            v.appRunning &&
            v.running.join() === all.join() &&
            Object.keys(v.partitions).length === 0,
        );
      },
      { timeoutMs, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; views: ${last}`, { cause: error });
    });
  }

  /**
   * The operator's remedy under `ignore` (and a stuck autoheal): restart the app of the nodes
   * that do not see every other node, so they rejoin the side they were cut from.
   */
  async restartPartitioned(): Promise<string[]> {
    const all = this.nodes.length;
    const views = await this.views();
    const minority = [...views]
      .filter(([, v]) => v.running.length < all || Object.keys(v.partitions).length > 0)
      .map(([n, v]) => [n, v] as const)
      .sort((a, b) => a[1].running.length - b[1].running.length);
    const smallest = minority[0]?.[1].running.length;
    const restart = minority.filter(([, v]) => v.running.length === smallest).map(([n]) => n);
    for (const node of restart) {
      await this.ctl(node, 'stop_app');
      await this.ctl(node, 'start_app');
    }
    return restart.map((n) => n.name);
  }

  async addVhost(vhost: string): Promise<void> {
    const node = this.nodes[0]!;
    await this.ctl(node, 'add_vhost', vhost);
    await this.ctl(node, 'set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.ctl(await this.runningNode(), 'delete_vhost', vhost);
  }

  /** Leader and members online of each quorum queue of `vhost`. */
  async quorumQueues(
    vhost: string,
    /** The node to ask (default: one running its app); each side of a partition has its view. */
    on?: RabbitNode,
  ): Promise<{ name: string; leader: string; online: string[] }[]> {
    const out = await this.ctl(
      on ?? (await this.runningNode()),
      'list_queues', '-q', '--formatter', 'json', '-p', vhost, 'name', 'type', 'leader', 'online',
    ); // prettier-ignore
    return (JSON.parse(out) as { name: string; type: string; leader: string; online: string[] }[])
      .filter((q) => q.type === 'quorum')
      .map(({ name, leader, online }) => ({ name, leader, online }));
  }

  /**
   * Moves the leader of every quorum queue of `vhost` to `node`
   * (`rabbit_quorum_queue:transfer_leadership`, what `rabbitmq-upgrade drain` uses) and waits
   * until the node leads them all: "the host holding the queue leaders" is then one host.
   */
  async moveLeaders(vhost: string, node: RabbitNode): Promise<void> {
    const move =
      `[rabbit_quorum_queue:transfer_leadership(Q, '${node.name}') || ` +
      `Q <- rabbit_amqqueue:list(<<"${vhost}">>), amqqueue:get_type(Q) =:= rabbit_quorum_queue].`;
    await waitFor(
      `${node.name} to lead every quorum queue of ${vhost}`,
      async () => {
        const queues = await this.quorumQueues(vhost);
        if (queues.every((q) => q.leader === node.name)) return true;
        await this.ctl(node, 'eval', move);
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
  }

  /** Messages ready and unacked per queue of `vhost`. */
  async queueDepths(vhost: string): Promise<QueueDepths> {
    return queueDepthsFrom(await this.ctl(await this.runningNode(), ...queueDepthsArgs(vhost)));
  }

  /**
   * The AMQP connections to `vhost`, cluster-wide: the `connection_name` each client gave
   * (`<service>@<pid>` for ours) and the node it is connected to, known by the address the
   * client connected to (`host`; the CLI prints a remote pid without its node's name).
   */
  async connections(vhost: string): Promise<{ client: string; node: string }[]> {
    const out = await this.ctl(
      await this.runningNode(),
      'list_connections', '-q', '--formatter', 'json', 'host', 'vhost', 'client_properties',
    ); // prettier-ignore
    const rows = JSON.parse(out) as {
      host: string | number[];
      vhost: string;
      client_properties: unknown[];
    }[];
    return rows
      .filter((r) => r.vhost === vhost)
      .map((r) => ({
        client: connectionName(r.client_properties),
        node: `rabbit@${ipv4(r.host)}`,
      }));
  }

  /** The value of a `rabbit` application setting as the running node has it. */
  async setting(node: RabbitNode, key: string): Promise<string> {
    return (await this.ctl(node, 'eval', `application:get_env(rabbit, ${key}).`)).trim();
  }

  /** The last lines of each node's log (for a failure report). */
  logTails(lines = 30): string {
    return this.nodes
      .map((n) => {
        const file = join(n.dir, 'log', `${n.name}.log`);
        const text = existsSync(file) ? readFileSync(file, 'utf8') : '(no log)';
        return `----- ${n.name} -----\n${text.split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /** Kills the nodes and their epmds, and deletes their files. */
  async stop(): Promise<void> {
    for (const child of this.children) killGroup(child);
    rmSync(this.root, { recursive: true, force: true });
  }

  private async runningNode(): Promise<RabbitNode> {
    for (const node of this.nodes) {
      const running = await this.ctl(node, 'eval', 'rabbit:is_running().').catch(() => 'false');
      if (running.trim() === 'true') return node;
    }
    throw new Error('no node of the cluster runs its app');
  }

  private async quorumQueuesEnabled(node: RabbitNode): Promise<boolean> {
    const out = await this.ctl(node, 'list_feature_flags', '--formatter', 'json', 'name', 'state');
    const flags = JSON.parse(out) as { name: string; state: string }[];
    return flags.some((f) => f.name === 'quorum_queue' && f.state === 'enabled');
  }

  private async waitForMembers(expected: readonly RabbitNode[]): Promise<void> {
    const node = expected[expected.length - 1]!;
    await waitFor(
      `${node.name} to start and count ${expected.map((n) => n.name).join(', ')} as running (logs in ${node.dir}/log)`,
      async () => {
        const view = await this.view(node);
        return view.appRunning && expected.every((n) => view.running.includes(n.name));
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }

  private async boot(node: RabbitNode): Promise<void> {
    const env = this.env(node);
    // epmd first and in the foreground: a node that starts its own detaches it (pid lost).
    this.spawnIn(node.host, '/usr/bin/epmd', [], env);
    await waitFor(`epmd on ${node.host.name}`, () =>
      this.lab.exec(node.host, '/usr/bin/epmd', ['-names'], env).then(() => true),
    );
    this.spawnIn(node.host, `${BIN}/rabbitmq-server`, [], env);
  }

  private spawnIn(host: Host, command: string, args: string[], env: NodeJS.ProcessEnv): void {
    const [ip, ...prefix] = NetnsLab.prefix(host);
    const child = spawn(ip!, [...prefix, command, ...args], {
      env,
      stdio: 'ignore',
      detached: true, // its own process group: stop() kills the server script and its VM
    });
    this.children.push(child);
  }

  private env(node: RabbitNode): NodeJS.ProcessEnv {
    const { ERL_EPMD_ADDRESS: _address, ERL_FLAGS: _flags, ...inherited } = process.env;
    return {
      ...inherited,
      HOME: join(this.root, 'home'),
      RABBITMQ_CONF_ENV_FILE: join(this.root, 'rabbitmq-env.conf'),
      RABBITMQ_USE_LONGNAME: 'true',
      RABBITMQ_NODENAME: node.name,
      RABBITMQ_MNESIA_BASE: join(node.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(node.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(node.dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(node.dir, 'enabled_plugins'),
      RABBITMQ_PLUGINS_EXPAND_DIR: join(node.dir, 'plugins'),
      RABBITMQ_PID_FILE: join(node.dir, 'pid'),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-start_epmd false',
    };
  }

  private writeFiles(): void {
    const home = join(this.root, 'home');
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, '.erlang.cookie'), randomBytes(16).toString('hex'), { mode: 0o400 });
    writeFileSync(join(this.root, 'rabbitmq-env.conf'), '');
    for (const node of this.nodes) {
      mkdirSync(join(node.dir, 'log'), { recursive: true });
      // The seed lists no peers; the shipped file's handling is replaced by the one under test.
      const shipped = this.conf.lines.filter(
        (l) =>
          !l.startsWith('cluster_partition_handling') &&
          !(node === this.nodes[0] && PEER_KEY.test(l)),
      );
      writeFileSync(
        join(node.dir, 'rabbitmq.conf'),
        [
          'loopback_users = none',
          'net_ticktime = 10',
          ...shipped,
          `cluster_partition_handling = ${this.handling}`,
          '',
        ].join('\n'),
      );
      writeFileSync(join(node.dir, 'enabled_plugins'), '[].\n');
    }
  }
}

/**
 * The address as the CLI prints it: a string, or Erlang's address tuple, which for the
 * dual-stack listener is IPv6 with the IPv4 address in its last two words
 * (`[0,0,0,0,0,65535,2637,2]` is ::ffff:10.77.0.2).
 */
function ipv4(host: string | number[]): string {
  if (typeof host === 'string') return /\d+\.\d+\.\d+\.\d+/.exec(host)?.[0] ?? host;
  if (host.length === 4) return host.join('.');
  const [high = 0, low = 0] = host.slice(-2);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** The handling the shipped file sets (RabbitMQ's default `ignore` when it sets none). */
export function shippedHandling(conf: ClusterConf): PartitionHandling {
  return (settingValue(conf, 'cluster_partition_handling') ?? 'ignore') as PartitionHandling;
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Temporary directories of runs whose test process is gone. */
function removeLeftoverDirs(): void {
  for (const entry of execFileSync('ls', [tmpdir()]).toString().split('\n')) {
    const pid = Number(/^p18-(\d+)-/.exec(entry)?.[1] ?? NaN);
    if (!Number.isFinite(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch {
      rmSync(join(tmpdir(), entry), { recursive: true, force: true });
    }
  }
}
