import {
  Controller,
  Get,
  Header,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import {
  AmqpClient,
  AmqpConnection,
  AmqpServer,
  MESSAGING_OPTIONS,
  MessagingObservers,
  QueueDepths,
  type ResolvedMessagingOptions,
} from '@app/messaging';
import { Outbox } from '@app/outbox';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { RequireApiKey } from '../http/api-key.guard.js';
import { ShopMetrics } from './shop-metrics.js';

export const METRICS_PATH = '/metrics';

/**
 * This instance's metrics: watches the transport through `MessagingObservers`, reads circuit
 * states, the outbox backlog (if the service has an outbox) and its queues' depths on scrape,
 * plus Node's default process metrics.
 */
@Injectable()
export class ServiceMetrics implements OnApplicationShutdown {
  readonly metrics: ShopMetrics;
  private readonly queueDepths: QueueDepths;

  constructor(
    @Inject(MESSAGING_OPTIONS) options: ResolvedMessagingOptions,
    connection: AmqpConnection,
    client: AmqpClient,
    server: AmqpServer,
    observers: MessagingObservers,
    @Optional() outbox?: Outbox,
  ) {
    this.queueDepths = new QueueDepths(connection, () => server.ownQueues());
    this.metrics = new ShopMetrics(options.service, {
      circuits: () => client.circuits(),
      outbox: outbox && (() => outbox.stats()),
      queues: () => this.queueDepths.read(),
    });
    collectDefaultMetrics({ register: this.metrics.registry });
    observers.add(this.metrics);
  }

  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queueDepths.close();
  }
}

@Controller()
export class MetricsController {
  constructor(private readonly service: ServiceMetrics) {}

  @Get(METRICS_PATH)
  // Queue names and depths, circuit states, the runtime: for operators (Prometheus sends
  // the key as a bearer token: ops/prometheus).
  @RequireApiKey('admin')
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  scrape(): Promise<string> {
    return this.service.scrape();
  }
}

/** `GET /metrics` in the Prometheus text format. */
@Module({ controllers: [MetricsController], providers: [ServiceMetrics] })
export class MetricsModule {}
