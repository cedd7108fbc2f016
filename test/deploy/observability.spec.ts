// The compose `observability` profile, checked by reading it (no Docker engine runs here):
// Prometheus scrapes what the services serve, and the Grafana dashboard queries metric names
// the code's registry really exports.
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { exportedMetricNames, METRICS_PATH, MetricNames } from '@app/platform';
import { parse } from 'yaml';
import { compose, imageEnv, read, type Service, service } from './deploy-files.js';

type ObservedService = Service & { profiles?: string[]; command?: string[] };
const observed = (name: string) => service(name) as ObservedService;

/** The apps: compose services built from the Dockerfile, each on its image's HTTP_PORT. */
const apps = Object.entries(compose.services)
  .filter(([, s]) => s.build?.target)
  .map(([name, s]) => ({ name, port: Number(imageEnv(s.build!.target!).HTTP_PORT) }));

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type?: string; port: number }[];
}
const prometheus = parse(read('ops/prometheus/prometheus.yml')) as {
  scrape_configs: ScrapeConfig[];
};

/** `source:target[:ro]` bind mounts of a service, source relative to the repository. */
const mounts = (name: string) =>
  (observed(name).volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([source]) => source.startsWith('./'))
    .map(([source, target]) => ({ source: source.slice(2), target }));
const mountedAt = (name: string, source: string) =>
  mounts(name).find((m) => m.source === source)?.target;

const datasources = parse(read('ops/grafana/provisioning/datasources/prometheus.yml')) as {
  datasources: { uid: string; type: string; url: string }[];
};
const providers = parse(read('ops/grafana/provisioning/dashboards/shop.yml')) as {
  providers: { type: string; options: { path: string } }[];
};
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
const dashboard = JSON.parse(read('ops/grafana/dashboards/shop.json')) as { panels: Panel[] };
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('compose observability profile', () => {
  it('adds Prometheus and Grafana to the observability profile only', () => {
    for (const name of ['prometheus', 'grafana']) {
      expect(observed(name).profiles).toEqual(['observability']);
    }
    // The default `docker compose up` still runs the whole shop.
    for (const name of ['rabbitmq', 'postgres', 'mailpit', ...apps.map((a) => a.name)]) {
      expect(observed(name).profiles).toBeUndefined();
    }
  });

  it('pins the images and probes each one for readiness', () => {
    expect(observed('prometheus').image).toMatch(/^prom\/prometheus:v3\.\d+\.\d+$/);
    expect(observed('grafana').image).toMatch(/^grafana\/grafana:1[2-9]\.\d+\.\d+$/);
    expect(String(observed('prometheus').healthcheck?.test)).toContain('/-/ready');
    expect(String(observed('grafana').healthcheck?.test)).toContain('/api/health');
    expect(observed('grafana').depends_on?.prometheus?.condition).toBe('service_healthy');
  });

  it('mounts the Prometheus config where the command reads it', () => {
    const target = mountedAt('prometheus', 'ops/prometheus/prometheus.yml');
    expect(target).toBeDefined();
    expect(observed('prometheus').command).toContain(`--config.file=${target}`);
  });

  it('mounts the Grafana provisioning and dashboards where Grafana and the provider look', () => {
    expect(mountedAt('grafana', 'ops/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    for (const file of ['datasources/prometheus.yml', 'dashboards/shop.yml']) {
      const path = new URL(`../../ops/grafana/provisioning/${file}`, import.meta.url);
      expect(existsSync(path)).toBe(true);
    }
    expect(providers.providers.map((p) => p.options.path)).toEqual([
      mountedAt('grafana', 'ops/grafana/dashboards'),
    ]);
  });
});

describe('ops/prometheus/prometheus.yml', () => {
  it('scrapes every app, and nothing else, on its port and the path the code serves', () => {
    // The sample services at least; npm run new:service adds a job for each new one.
    expect(apps.map((a) => a.name)).toEqual(
      expect.arrayContaining(['inventory', 'notification', 'order']),
    );
    const scraped = prometheus.scrape_configs.flatMap((job) => [
      ...(job.static_configs ?? []).flatMap((c) => c.targets),
      ...(job.dns_sd_configs ?? []).flatMap((c) => c.names.map((n) => `${n}:${c.port}`)),
    ]);
    expect(scraped.sort()).toEqual(apps.map((a) => `${a.name}:${a.port}`).sort());
    for (const job of prometheus.scrape_configs) {
      expect(job.metrics_path ?? '/metrics').toBe(METRICS_PATH);
    }
  });

  it('finds each replica of the scalable inventory through Docker DNS', () => {
    const inventory = prometheus.scrape_configs.find((j) => j.job_name === 'inventory');
    expect(inventory?.static_configs).toBeUndefined();
    expect(inventory?.dns_sd_configs).toEqual([
      expect.objectContaining({
        names: ['inventory'],
        type: 'A',
        port: apps.find((a) => a.name === 'inventory')?.port,
      }),
    ]);
  });

  it('is reached by Grafana at the compose Prometheus service', () => {
    const [source] = datasources.datasources;
    const port = /(\d+)$/.exec(String(observed('prometheus').ports?.[0]))?.[1];
    expect(source).toMatchObject({ type: 'prometheus', url: `http://prometheus:${port}` });
  });
});

describe('ops/grafana/dashboards/shop.json', () => {
  const exported = new Set(exportedMetricNames());
  const histograms = [MetricNames.handlerDuration, MetricNames.rpcDuration];
  /** `foo_bucket` of a histogram `foo` is `foo`. */
  const metricOf = (series: string) => {
    const base = series.replace(/_(bucket|count|sum)$/, '');
    return (histograms as string[]).includes(base) ? base : series;
  };
  const used = new Set(
    queries.flatMap((q) => [...q.matchAll(/\bshop_\w+/g)].map(([series]) => metricOf(series))),
  );

  it('queries only metrics the code exports', () => {
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('shows throughput, latency, queue and DLQ depth, outbox backlog and circuit state', () => {
    for (const name of [
      MetricNames.messagesConsumed,
      MetricNames.messagesPublished,
      MetricNames.messagesHandled,
      MetricNames.handlerDuration,
      MetricNames.rpcDuration,
      MetricNames.queueReady,
      MetricNames.outboxPending,
      MetricNames.outboxOldestAge,
      MetricNames.circuitState,
    ]) {
      expect([...used]).toContain(name);
    }
    const latency = queries.filter((q) => q.includes(`${MetricNames.handlerDuration}_bucket`));
    expect(latency.map((q) => /histogram_quantile\((0\.\d+)/.exec(q)?.[1]).sort()).toEqual([
      '0.5',
      '0.99',
    ]);
    const dlq = queries.filter((q) => q.includes(MetricNames.queueReady) && q.includes('dlq'));
    expect(dlq).toHaveLength(2); // work queues without the DLQs, and the DLQs alone
  });

  it('reads every panel from the provisioned Prometheus data source', () => {
    const [{ uid }] = datasources.datasources;
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThanOrEqual(6);
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid,
      });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid ?? uid).toBe(uid);
    }
  });
});
