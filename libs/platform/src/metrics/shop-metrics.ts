import { allContracts } from '@app/contracts';
import type {
  CircuitState,
  ConsumeInfo,
  ConsumeOutcome,
  ConsumeScope,
  MessagingObserver,
  PublishInfo,
  QueueDepth,
  RpcOutcome,
} from '@app/messaging';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric name this code exports; the Grafana dashboard uses these (test/deploy checks). */
export const MetricNames = {
  messagesPublished: 'shop_messages_published_total',
  messagesConsumed: 'shop_messages_consumed_total',
  messagesHandled: 'shop_messages_handled_total',
  handlerDuration: 'shop_message_handler_duration_seconds',
  rpcDuration: 'shop_rpc_client_duration_seconds',
  outboxPending: 'shop_outbox_pending_messages',
  outboxOldestAge: 'shop_outbox_oldest_pending_age_seconds',
  circuitState: 'shop_rpc_circuit_state',
  queueReady: 'shop_queue_messages_ready',
  queueConsumers: 'shop_queue_consumers',
} as const;

/** `shop_rpc_circuit_state` values. */
export const CircuitStateValue: Record<CircuitState, number> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

/** Where the gauges read their values, on each scrape. */
export interface MetricSources {
  circuits?: () => Record<string, CircuitState>;
  outbox?: () => Promise<{ pending: number; oldestAgeSeconds: number }>;
  queues?: () => Promise<QueueDepth[]>;
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A scrape waits this long for the database or the broker, then reports without them. */
const COLLECT_TIMEOUT_MS = 1_000;

// Labels stay bounded: a type no contract declares (a stray or hostile message) is "other".
const KNOWN_TYPES = new Set(allContracts.map((c) => c.name));
const typeLabel = (type: string | undefined) =>
  type === undefined ? 'none' : KNOWN_TYPES.has(type) ? type : 'other';
const publishedTypeLabel = (info: PublishInfo) =>
  info.kind === 'rpc-reply'
    ? `${typeLabel(info.type.replace(/\.reply$/, ''))}.reply`
    : typeLabel(info.type);

/**
 * The Prometheus metrics of one service instance, in a registry of its own (tests run several
 * apps in one process). It watches the transport as a `MessagingObserver`; gauges read their
 * sources when scraped.
 */
export class ShopMetrics implements MessagingObserver {
  readonly registry = new Registry();
  private readonly publishedTotal: Counter<'type' | 'kind' | 'outcome'>;
  private readonly consumedTotal: Counter<'type' | 'kind' | 'queue'>;
  private readonly handledTotal: Counter<'type' | 'kind' | 'queue' | 'outcome'>;
  private readonly handlerSeconds: Histogram<'type' | 'kind'>;
  private readonly rpcSeconds: Histogram<'pattern' | 'outcome'>;

  constructor(service: string, sources: MetricSources = {}) {
    this.registry.setDefaultLabels({ service });
    const registers = [this.registry];
    this.publishedTotal = new Counter({
      name: MetricNames.messagesPublished,
      help: 'Messages published: events once the broker confirmed them (outcome ok) or not (failed), RPC replies once written.',
      labelNames: ['type', 'kind', 'outcome'],
      registers,
    });
    this.consumedTotal = new Counter({
      name: MetricNames.messagesConsumed,
      help: 'Deliveries taken from a queue of this service.',
      labelNames: ['type', 'kind', 'queue'],
      registers,
    });
    this.handledTotal = new Counter({
      name: MetricNames.messagesHandled,
      help: 'Deliveries by how they ended: acked, replied, retried, dead-lettered or abandoned (left for redelivery).',
      labelNames: ['type', 'kind', 'queue', 'outcome'],
      registers,
    });
    this.handlerSeconds = new Histogram({
      name: MetricNames.handlerDuration,
      help: 'From delivery to ack, reply or move to a retry/dead-letter queue.',
      labelNames: ['type', 'kind'],
      buckets: SECONDS,
      registers,
    });
    this.rpcSeconds = new Histogram({
      name: MetricNames.rpcDuration,
      help: 'RPC round trips made by this service, by outcome (ok, error, timeout, unavailable, circuit-open, cancelled).',
      labelNames: ['pattern', 'outcome'],
      buckets: SECONDS,
      registers,
    });
    this.gauges(sources, registers);
  }

  published(info: PublishInfo, ok: boolean): void {
    this.publishedTotal.inc({
      type: publishedTypeLabel(info),
      kind: info.kind,
      outcome: ok ? 'ok' : 'failed',
    });
  }

  consuming(info: ConsumeInfo): ConsumeScope {
    const labels = { type: typeLabel(info.type), kind: info.kind, queue: info.queue };
    this.consumedTotal.inc(labels);
    const stop = this.handlerSeconds.startTimer({ type: labels.type, kind: labels.kind });
    return {
      run: (work) => work(),
      end: (outcome: ConsumeOutcome) => {
        stop();
        this.handledTotal.inc({ ...labels, outcome });
      },
    };
  }

  rpcCompleted(pattern: string, durationMs: number, outcome: RpcOutcome): void {
    this.rpcSeconds.observe({ pattern: typeLabel(pattern), outcome }, durationMs / 1_000);
  }

  private gauges(sources: MetricSources, registers: Registry[]): void {
    new Gauge({
      name: MetricNames.circuitState,
      help: 'RPC circuit per called service: 0 closed, 1 half-open, 2 open.',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const [target, state] of Object.entries(sources.circuits?.() ?? {}))
          this.set({ target }, CircuitStateValue[state]);
      },
    });
    // Only a service with an outbox has these: an unlabelled gauge always reports a value.
    if (sources.outbox) outboxGauges(shared(sources.outbox), registers);
    const queues = shared(sources.queues);
    new Gauge({
      name: MetricNames.queueReady,
      help: "Ready messages in this service's queues (work, delay and dead-letter), from the broker.",
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const q of (await queues()) ?? []) this.set({ queue: q.queue }, q.messages);
      },
    });
    new Gauge({
      name: MetricNames.queueConsumers,
      help: "Consumers on this service's queues, from the broker.",
      labelNames: ['queue'],
      registers,
      async collect() {
        this.reset();
        for (const q of (await queues()) ?? []) this.set({ queue: q.queue }, q.consumers);
      },
    });
  }
}

function outboxGauges(
  outbox: () => Promise<{ pending: number; oldestAgeSeconds: number } | undefined>,
  registers: Registry[],
): void {
  new Gauge({
    name: MetricNames.outboxPending,
    help: 'Outbox rows not yet published (the whole table: every replica reports the same); NaN if the database did not answer.',
    registers,
    async collect() {
      this.set((await outbox())?.pending ?? NaN);
    },
  });
  new Gauge({
    name: MetricNames.outboxOldestAge,
    help: 'Age of the oldest unpublished outbox row, 0 when there is none.',
    registers,
    async collect() {
      this.set((await outbox())?.oldestAgeSeconds ?? NaN);
    },
  });
}

/** The names `ShopMetrics` registers, read from a registry built with every source. */
export function exportedMetricNames(): string[] {
  const every: Required<MetricSources> = {
    circuits: () => ({}),
    outbox: async () => ({ pending: 0, oldestAgeSeconds: 0 }),
    queues: async () => [],
  };
  return new ShopMetrics('names', every).registry.getMetricsAsArray().map((m) => m.name);
}

/**
 * One read shared by the gauges that need it (they collect concurrently in one scrape) and
 * bounded in time; a failed or slow read gives `undefined`, and those gauges report NaN or no
 * sample, never a stale or made-up value.
 */
function shared<T>(read: (() => Promise<T>) | undefined): () => Promise<T | undefined> {
  let inFlight: Promise<T | undefined> | undefined;
  return () => {
    if (!read) return Promise.resolve(undefined);
    inFlight ??= bounded(read()).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

async function bounded<T>(work: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), COLLECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
