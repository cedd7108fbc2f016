import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AmqpClient, MessagingModule, Outbox, type OutboxOptions } from '@app/messaging';
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceConfig } from './config/service-config.js';
import { DATABASE, DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { tracingEnabled } from './tracing/tracing.config.js';
import { TracingModule } from './tracing/tracing.module.js';
import { HttpHardeningModule } from './http/http-hardening.module.js';
import { loggerParams } from './logging/logger-params.js';
import { MetricsModule } from './metrics/metrics.module.js';

export interface ServiceDefaultsOptions {
  migrations: Record<string, Migration>;
  /** Provide an `Outbox` (the service publishes events from its transactions). */
  outbox?: OutboxOptions | false;
}

/**
 * What every service gets the same way: typed config through `ConfigService`, structured logs
 * (nestjs-pino, see logging/logger-params.ts), its database schema and migrations, the broker
 * connection, health endpoints and, if asked, the outbox.
 */
@Module({})
export class ServiceDefaultsModule {
  static forRoot(config: ServiceConfig, options: ServiceDefaultsOptions): DynamicModule {
    const outboxOptions = options.outbox;
    return {
      module: ServiceDefaultsModule,
      global: true,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => config] }),
        LoggerModule.forRoot(loggerParams(config.service, config.log)),
        DatabaseModule.forRoot({ ...config.database, migrations: options.migrations }),
        MessagingModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (c: ConfigService<ServiceConfig, true>) =>
            c.get('messaging', { infer: true }),
        }),
        HealthModule,
        // Tracing off (the default): not even imported.
        ...(tracingEnabled(config.tracing)
          ? [TracingModule.forRoot(config.service, config.tracing)]
          : []),
        HttpHardeningModule.forRoot(config.http, config.insecureDevMode),
        MetricsModule,
      ],
      providers:
        outboxOptions === false || outboxOptions === undefined
          ? []
          : [
              {
                provide: Outbox,
                useFactory: (db: Kysely<unknown>, client: AmqpClient) =>
                  new Outbox(db, client, outboxOptions),
                inject: [DATABASE, AmqpClient],
              },
            ],
      exports: outboxOptions ? [Outbox] : [],
    };
  }
}
