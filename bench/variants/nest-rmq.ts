import { Controller, type DynamicModule, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientRMQ,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RmqContext,
  type RmqOptions,
  Transport,
} from '@nestjs/microservices';
import type { Channel } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { Arrivals } from '../support/arrivals.js';
import { type BenchBody, BenchEcho, BenchHappened, BenchQueues } from '../support/payload.js';
import type { ConsumerSettings, EventTarget, RpcTarget, Variant } from './types.js';

/**
 * Nest's built-in `Transport.RMQ`, made as safe as it goes: manual acks (`noAck: false`),
 * bounded prefetch, durable queues, persistent events, Nagle off. Its events are confirmed:
 * `ClientRMQ` publishes through an amqp-connection-manager `ChannelWrapper`, which opens a
 * confirm channel unless told `confirm: false`, and `emit()` settles in the publish callback,
 * i.e. on the broker's ack. It validates nothing.
 */
export const NEST_RMQ = 'Nest RMQ';

function ack(ctx: RmqContext): void {
  (ctx.getChannelRef() as Channel).ack(ctx.getMessage() as Parameters<Channel['ack']>[0]);
}

@Controller()
class NestBenchController {
  constructor(private readonly arrivals: Arrivals) {}

  @MessagePattern(BenchEcho.name)
  echo(@Payload() request: BenchBody, @Ctx() ctx: RmqContext): BenchBody {
    ack(ctx);
    return request;
  }

  // Nest 12 types an event handler's extra parameters as `unknown`.
  @EventPattern(BenchHappened.name)
  happened(@Payload() _event: BenchBody, @Ctx() ctx: unknown): void {
    ack(ctx as RmqContext);
    this.arrivals.hit();
  }
}

@Module({})
class NestBenchModule {
  static forRoot(arrivals: Arrivals): DynamicModule {
    return {
      module: NestBenchModule,
      controllers: [NestBenchController],
      providers: [{ provide: Arrivals, useValue: arrivals }],
    };
  }
}

type RmqSettings = NonNullable<RmqOptions['options']>;

function rmqOptions(url: string, queue: string, extra: RmqSettings = {}): RmqSettings {
  return {
    urls: [url],
    queue,
    queueOptions: { durable: true },
    socketOptions: { connectionOptions: { noDelay: true } },
    ...extra,
  };
}

async function startServer(
  url: string,
  queue: string,
  prefetchCount: number,
  arrivals: Arrivals,
): Promise<INestApplication> {
  const app = await NestFactory.create(NestBenchModule.forRoot(arrivals), {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  app.connectMicroservice<RmqOptions>({
    transport: Transport.RMQ,
    options: rmqOptions(url, queue, { noAck: false, prefetchCount }),
  });
  await app.startAllMicroservices();
  await app.init();
  return app;
}

async function startClient(url: string, queue: string, persistent: boolean): Promise<ClientRMQ> {
  const client = new ClientRMQ(rmqOptions(url, queue, { persistent }));
  await client.connect();
  return client;
}

export function nestRpc(settings: ConsumerSettings): Variant<RpcTarget> {
  return {
    name: NEST_RMQ,
    note: 'no validation',
    async start(url) {
      const app = await startServer(url, BenchQueues.rpc, settings.rpcPrefetch, new Arrivals());
      const client = await startClient(url, BenchQueues.rpc, false);
      return {
        call: (body) => lastValueFrom(client.send<BenchBody>(BenchEcho.name, body)),
        close: async () => {
          await client.close();
          await app.close();
        },
      };
    },
  };
}

export function nestEvents(settings: ConsumerSettings): Variant<EventTarget> {
  return {
    name: NEST_RMQ,
    note: 'confirmed (amqp-connection-manager confirm channel, emit settles on the ack), no validation',
    async start(url) {
      const arrivals = new Arrivals();
      const app = await startServer(url, BenchQueues.events, settings.prefetch, arrivals);
      const client = await startClient(url, BenchQueues.events, true);
      return {
        arrivals,
        publish: async (n, body) => {
          const sent: Promise<unknown>[] = new Array(n);
          for (let i = 0; i < n; i++)
            sent[i] = lastValueFrom(client.emit(BenchHappened.name, body), {
              defaultValue: undefined,
            });
          await Promise.all(sent);
        },
        close: async () => {
          await client.close();
          await app.close();
        },
      };
    },
  };
}
