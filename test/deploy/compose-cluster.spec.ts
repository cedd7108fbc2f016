// docker-compose.cluster.yml is an override of docker-compose.yml, so it is checked merged
// with it the way compose merges files: maps (environment, depends_on) key by key, volumes by
// their target path, everything else replaced (https://docs.docker.com/compose/how-tos/multiple-compose-files/merge/).
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { serviceEntry, serviceNames } from '../../apps/services.js';
import { compose, imageEnv, read, resolveEnvironment, type Service } from './deploy-files.js';

type ClusterService = Service & { hostname?: string; entrypoint?: string[] };

const override = parse(read('docker-compose.cluster.yml'), { merge: true }) as {
  services: Record<string, ClusterService>;
  volumes?: Record<string, unknown>;
};
const NODES = ['rabbitmq', 'rabbitmq-2', 'rabbitmq-3'];
/** Every registered service (apps/services.ts), as in compose.spec.ts. */
const apps = serviceNames.map((name) => ({ name, load: serviceEntry(name).definition.loadConfig }));

function merged(name: string): ClusterService {
  const base = (compose.services[name] ?? {}) as ClusterService;
  const over = override.services[name] ?? {};
  const target = (v: string) => v.split(':')[1];
  const volumes = [...(base.volumes ?? []), ...(over.volumes ?? [])].filter(
    (v, i, all) => !all.slice(i + 1).some((later) => target(later) === target(v)),
  );
  return {
    ...base,
    ...over,
    environment: { ...base.environment, ...over.environment },
    depends_on: { ...base.depends_on, ...over.depends_on },
    volumes,
  };
}
const env = (name: string) => resolveEnvironment(merged(name).environment);
const clusterConf = read('ops/rabbitmq/cluster.conf');

describe('docker-compose.cluster.yml', () => {
  it('runs three RabbitMQ 4 nodes, each named after its host and keeping its own data', () => {
    for (const name of NODES) {
      const node = merged(name);
      expect(node.image).toMatch(/^rabbitmq:4[\w.]*-management/);
      expect(node.hostname).toBe(name);
      expect(node.volumes).toContainEqual(expect.stringMatching(/^[\w-]+:\/var\/lib\/rabbitmq$/));
    }
    const data = NODES.map((n) => merged(n).volumes!.find((v) => v.endsWith(':/var/lib/rabbitmq')));
    expect(new Set(data).size).toBe(3);
    for (const volume of data) expect(override.volumes).toHaveProperty(volume!.split(':')[0]!);
  });

  it('gives every node the same Erlang cookie, written owner-only before the node starts', () => {
    const cookies = NODES.map((name) => env(name).RABBITMQ_CLUSTER_COOKIE);
    expect(cookies[0]).toMatch(/^\S{16,}$/);
    expect(new Set(cookies).size).toBe(1);
    for (const name of NODES) {
      const script = merged(name).entrypoint?.join(' ') ?? '';
      expect(script).toContain('"$$RABBITMQ_CLUSTER_COOKIE" > /var/lib/rabbitmq/.erlang.cookie');
      expect(script).toContain('chmod 400 /var/lib/rabbitmq/.erlang.cookie');
      expect(script).toMatch(/exec docker-entrypoint\.sh rabbitmq-server$/);
    }
  });

  it('forms the cluster by classic peer discovery over the three node names', () => {
    const setting = (key: string) =>
      [
        ...clusterConf.matchAll(new RegExp(`^${key.replace(/\./g, '\\.')}\\s*=\\s*(\\S+)`, 'gm')),
      ].map((m) => m[1]);
    expect(setting('cluster_formation.peer_discovery_backend')).toEqual(['classic_config']);
    const listed = [1, 2, 3].flatMap((i) => setting(`cluster_formation.classic_config.nodes.${i}`));
    expect(listed).toEqual(NODES.map((n) => `rabbit@${merged(n).hostname}`));
    for (const name of NODES) {
      expect(merged(name).volumes).toContainEqual(
        expect.stringMatching(
          /^\.\/ops\/rabbitmq\/cluster\.conf:\/etc\/rabbitmq\/conf\.d\/[\w-]+\.conf(:ro)?$/,
        ),
      );
    }
  });

  it('pauses a node cut off from the majority (cluster_partition_handling = pause_minority)', () => {
    // RabbitMQ's default, `ignore`, lets a cut-off node take publishes it never confirms and
    // keeps the partition after the network heals; test/faults/partition.fault-spec.ts runs the
    // cases under this setting, docs/scaling.md has the numbers of each mode.
    const handling = [...clusterConf.matchAll(/^cluster_partition_handling\s*=\s*(\S+)/gm)];
    expect(handling.map((m) => m[1])).toEqual(['pause_minority']);
  });

  it('health-checks every node and starts the apps only once all three are healthy', () => {
    for (const name of NODES) {
      expect(merged(name).healthcheck?.test).toEqual(
        expect.arrayContaining(['rabbitmq-diagnostics', 'check_port_connectivity']),
      );
    }
    for (const { name } of apps) {
      const healthy = Object.entries(merged(name).depends_on ?? {})
        .filter(([, d]) => d.condition === 'service_healthy')
        .map(([dependency]) => dependency);
      expect(healthy).toEqual(expect.arrayContaining([...NODES, 'postgres']));
    }
  });

  it('gives every node the users, vhost and permissions of node 1, and no default user', () => {
    const access = (name: string) =>
      (merged(name).volumes ?? []).filter(
        (v) =>
          v.startsWith('./ops/rabbitmq/rabbitmq.conf:') ||
          v.startsWith('./ops/rabbitmq/definitions.json:'),
      );
    expect(access('rabbitmq')).toHaveLength(2);
    for (const name of NODES) {
      expect(access(name)).toEqual(access('rabbitmq'));
      expect(env(name)).not.toHaveProperty('RABBITMQ_DEFAULT_USER');
    }
  });

  it.each(apps)('points $name at every node, with quorum queues', ({ name, load }) => {
    const config = load({ ...imageEnv(name), ...env(name) });
    const urls = [...config.messaging.urls].map((u) => new URL(u));
    expect(urls.map((u) => u.hostname)).toEqual(NODES);
    const single = new URL(String(compose.services[name]?.environment?.RABBITMQ_URL));
    for (const url of urls) {
      // Same user, password, port and vhost as the single-node stack: only the host differs.
      expect([url.username, url.password, url.port, url.pathname]).toEqual([
        single.username,
        single.password,
        single.port,
        single.pathname,
      ]);
    }
    expect(config.messaging.queueType).toBe('quorum');
  });
});
