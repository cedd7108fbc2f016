import { Controller, type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { PayloadOf, RequestOf } from '@app/contracts';
import { AmqpClient, AmqpServer, HandleEvent, HandleRpc, MessagingModule } from '@app/messaging';
import { Arrivals } from '../support/arrivals.js';
import { BenchEcho, BenchHappened } from '../support/payload.js';
import type { ConsumerSettings, EventTarget, RpcTarget, Variant } from './types.js';

export const OURS = 'ours';
export const OURS_PUBLISH_RAW = 'ours (publishRaw)';

@Controller()
class EchoController {
  @HandleRpc(BenchEcho)
  echo(request: RequestOf<typeof BenchEcho>) {
    return request;
  }
}

@Controller()
class CountingController {
  constructor(private readonly arrivals: Arrivals) {}

  @HandleEvent(BenchHappened)
  happened(_event: PayloadOf<typeof BenchHappened>) {
    this.arrivals.hit();
  }
}

@Module({})
class BenchServiceModule {
  static forRoot(
    url: string,
    settings: ConsumerSettings,
    handlers: 'rpc' | 'events',
    arrivals: Arrivals,
  ): DynamicModule {
    return {
      module: BenchServiceModule,
      imports: [
        MessagingModule.forRoot({
          urls: url,
          service: 'bench',
          prefetch: settings.prefetch,
          rpcPrefetch: settings.rpcPrefetch,
          isGlobal: true,
        }),
      ],
      controllers: [handlers === 'rpc' ? EchoController : CountingController],
      providers: [{ provide: Arrivals, useValue: arrivals }],
    };
  }
}

/** One instance of a minimal service, wired like the apps: MessagingModule + AmqpServer. */
async function startService(
  url: string,
  settings: ConsumerSettings,
  handlers: 'rpc' | 'events',
  arrivals = new Arrivals(),
): Promise<{ app: INestApplication; client: AmqpClient }> {
  const app = await NestFactory.create(
    BenchServiceModule.forRoot(url, settings, handlers, arrivals),
    { logger: ['error', 'warn'], abortOnError: false },
  );
  app.connectMicroservice({ strategy: app.get(AmqpServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  const client = app.get(AmqpClient);
  await client.connect();
  return { app, client };
}

export function layerRpc(settings: ConsumerSettings): Variant<RpcTarget> {
  return {
    name: OURS,
    async start(url) {
      const { app, client } = await startService(url, settings, 'rpc');
      return {
        call: (body) => client.request(BenchEcho, body),
        close: () => app.close(),
      };
    },
  };
}

/**
 * `consumers` instances of one service; the first also publishes, through the typed
 * `publishEvent()` (validates, then publishes) or `publishRaw()` (what the outbox relay uses).
 */
export function layerEvents(
  settings: ConsumerSettings,
  { consumers = 1, raw = false }: { consumers?: number; raw?: boolean } = {},
): Variant<EventTarget> {
  return {
    name: raw ? OURS_PUBLISH_RAW : OURS,
    async start(url) {
      const arrivals = new Arrivals();
      const instances: Awaited<ReturnType<typeof startService>>[] = [];
      for (let i = 0; i < consumers; i++)
        instances.push(await startService(url, settings, 'events', arrivals));
      const client = instances[0]!.client;
      const publishOne = raw
        ? (body: PayloadOf<typeof BenchHappened>) =>
            client.publishRaw({ type: BenchHappened.name, version: BenchHappened.version }, body)
        : (body: PayloadOf<typeof BenchHappened>) => client.publishEvent(BenchHappened, body);
      return {
        arrivals,
        publish: async (n, body) => {
          const confirms: Promise<void>[] = new Array(n);
          for (let i = 0; i < n; i++) confirms[i] = publishOne(body);
          await Promise.all(confirms);
        },
        close: async () => {
          for (const { app } of instances) await app.close();
        },
      };
    },
  };
}
