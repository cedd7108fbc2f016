import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { DatabaseModule, type Migrations } from '@app/database';
import { AmqpClient, MessagingModule } from '@app/messaging';
import { OUTBOX_PUBLISHER, OutboxModule, type OutboxRelayOptions } from '@app/outbox';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceConfig } from './config/service-config.js';
import { HealthModule } from './health/health.module.js';
import { tracingEnabled } from './tracing/tracing.config.js';
import { TracingModule } from './tracing/tracing.module.js';
import { HttpHardeningModule } from './http/http-hardening.module.js';
import { loggerParams } from './logging/logger-params.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { amqpOutboxPublisher } from './messaging/amqp-outbox-publisher.js';

type ServiceConfigService = ConfigService<ServiceConfig, true>;

export interface ServiceDefaultsOptions {
  migrations: Migrations;
  /** Provide an `Outbox` and its relay (the service publishes events from its transactions). */
  outbox?: OutboxRelayOptions | false;
}

/**
 * What every service gets the same way: its config in `ConfigModule`, which every provider and
 * module reads through `ConfigService<Config, true>` (`get(key, { infer: true })`), structured logs
 * (nestjs-pino, see logging/logger-params.ts), its database schema, migrations and unit of
 * work, the broker connection, health endpoints and, if asked, the outbox.
 */
@Module({})
export class ServiceDefaultsModule {
  static forRoot(config: ServiceConfig, options: ServiceDefaultsOptions): DynamicModule {
    const outboxOptions = options.outbox || undefined;
    return {
      module: ServiceDefaultsModule,
      global: true,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ServiceConfigService) =>
            loggerParams(c.get('service', { infer: true }), c.get('log', { infer: true })),
        }),
        DatabaseModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ServiceConfigService) => ({
            ...c.get('database', { infer: true }),
            migrations: options.migrations,
          }),
        }),
        MessagingModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (c: ServiceConfigService) => c.get('messaging', { infer: true }),
        }),
        HealthModule,
        // Which modules exist is decided here, from the same object: tracing off (the
        // default) is not even imported, nor the throttler without a rate limit.
        ...(tracingEnabled(config.tracing) ? [TracingModule.forRoot()] : []),
        HttpHardeningModule.forRoot({ rateLimited: config.http.rateLimitPerMinute > 0 }),
        MetricsModule,
        ...(outboxOptions
          ? [
              OutboxModule.forRoot({
                ...outboxOptions,
                publisher: {
                  provide: OUTBOX_PUBLISHER,
                  useFactory: amqpOutboxPublisher,
                  inject: [AmqpClient],
                },
              }),
            ]
          : []),
      ],
    };
  }
}
