import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MessagingObservers } from '@app/messaging';
import type { ServiceConfig } from '../config/service-config.js';
import { HttpTracingMiddleware } from './http-tracing.middleware.js';
import { MessagingTracer } from './messaging-tracer.js';
import { Tracing } from './tracing.js';

/**
 * OpenTelemetry tracing of one service: a SERVER span per HTTP request and the trace carried
 * through RabbitMQ (`MessagingTracer`). Imported only when tracing is on, so a service
 * without it pays nothing. Needs `MessagingObservers` (MessagingModule, global).
 */
@Module({})
export class TracingModule implements NestModule {
  static forRoot(): DynamicModule {
    return {
      module: TracingModule,
      providers: [
        {
          provide: Tracing,
          // Observes the transport from the start: consumers may run before the app's init hooks.
          useFactory: (
            observers: MessagingObservers,
            config: ConfigService<ServiceConfig, true>,
          ) => {
            const tracing = Tracing.create(
              config.get('service', { infer: true }),
              config.get('tracing', { infer: true }),
            );
            observers.add(new MessagingTracer(tracing));
            return tracing;
          },
          inject: [MessagingObservers, ConfigService],
        },
      ],
      exports: [Tracing],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpTracingMiddleware).forRoutes('*');
  }
}
