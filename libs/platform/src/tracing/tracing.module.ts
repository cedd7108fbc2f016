import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { MessagingObservers } from '@app/messaging';
import { HttpTracingMiddleware } from './http-tracing.middleware.js';
import { MessagingTracer } from './messaging-tracer.js';
import { Tracing } from './tracing.js';
import type { TracingConfig } from './tracing.config.js';

/**
 * OpenTelemetry tracing of one service: a SERVER span per HTTP request and the trace carried
 * through RabbitMQ (`MessagingTracer`). Imported only when tracing is on, so a service
 * without it pays nothing. Needs `MessagingObservers` (MessagingModule, global).
 */
@Module({})
export class TracingModule implements NestModule {
  static forRoot(service: string, config: TracingConfig): DynamicModule {
    return {
      module: TracingModule,
      providers: [
        {
          provide: Tracing,
          // Observes the transport from the start: consumers may run before the app's init hooks.
          useFactory: (observers: MessagingObservers) => {
            const tracing = Tracing.create(service, config);
            observers.add(new MessagingTracer(tracing));
            return tracing;
          },
          inject: [MessagingObservers],
        },
      ],
      exports: [Tracing],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpTracingMiddleware).forRoutes('*');
  }
}
