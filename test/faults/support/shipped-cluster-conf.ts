import { readFileSync } from 'node:fs';

/** The cluster settings docker-compose.cluster.yml gives each node. */
export const SHIPPED_CLUSTER_CONF = 'ops/rabbitmq/cluster.conf';

/**
 * Settings of the shipped file that a node older than the compose image's does not know (its
 * configuration schema rejects an unknown key, and the node does not boot): the key prefix and
 * the first version that has it (https://www.rabbitmq.com/docs/quorum-queues#replica-reconciliation).
 */
const NEWER_SETTINGS: readonly { prefix: string; since: readonly [number, number] }[] = [
  { prefix: 'quorum_queue.continuous_membership_reconciliation.', since: [3, 13] },
];

export interface ClusterConf {
  /** rabbitmq.conf lines for the private nodes. */
  lines: string[];
  /** Shipped lines this node's version cannot take, left out (a case reports them). */
  skipped: string[];
}

/**
 * ops/rabbitmq/cluster.conf as the private nodes take it: the peer list names the private
 * nodes instead of the compose host names (`nodes.1` is the first private node, and so on),
 * and the settings `version` predates are left out, named in `skipped`. Every other line is
 * taken as shipped.
 */
export function shippedClusterConf(nodes: readonly string[], version: string): ClusterConf {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const raw of readFileSync(SHIPPED_CLUSTER_CONF, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const key = line.split('=')[0]!.trim();
    const newer = NEWER_SETTINGS.find((s) => key.startsWith(s.prefix));
    if (newer && (major < newer.since[0] || (major === newer.since[0] && minor < newer.since[1]))) {
      skipped.push(line);
      continue;
    }
    const peer = /^cluster_formation\.classic_config\.nodes\.(\d+)$/.exec(key);
    if (peer) {
      const node = nodes[Number(peer[1]) - 1];
      if (!node) throw new Error(`${SHIPPED_CLUSTER_CONF} lists more peers than ${nodes.length}`);
      lines.push(`${key} = ${node}`);
      continue;
    }
    lines.push(line);
  }
  return { lines, skipped };
}

/** The value `conf` gives `key` (`queue_leader_locator` → `balanced`), if it sets it. */
export function settingValue(conf: ClusterConf, key: string): string | undefined {
  const line = conf.lines.find((l) => l.split('=')[0]!.trim() === key);
  return line?.split('=').slice(1).join('=').trim();
}
