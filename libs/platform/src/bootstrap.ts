import { existsSync } from 'node:fs';
import { type DynamicModule, type INestApplication, Logger } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { ConfigValidationError, type Env } from './config/env.js';
import type { ServiceConfig } from './config/service-config.js';
import { correlationMiddleware } from './http/correlation.middleware.js';
import { DomainErrorFilter } from './http/domain-error.filter.js';
import { tracingEnabled } from './tracing/tracing.config.js';
import { Tracing } from './tracing/tracing.js';
import { applyHttpHardening } from './http/http-hardening.js';
import { adminOnly } from './http/api-key.guard.js';
import { ApiKeys } from './http/api-keys.js';
import { type ApiInfo, DOCS_PATH, setupOpenApi } from './http/openapi.js';
import { prettyTarget } from './logging/logger-params.js';
import { connectMessaging } from './messaging/connect-messaging.js';

export interface ServiceAppOptions {
  /** HTTP status for each domain error code the app's API can raise. */
  errorStatus?: Readonly<Record<string, number>>;
  /** Title and description of the OpenAPI document at /docs. */
  api?: ApiInfo;
}

/**
 * Builds a service the same way in `main.ts` and in e2e tests: HTTP API plus the AMQP
 * transport strategy, structured logs, correlation ids, domain-error mapping. Neither listens
 * nor starts the transport yet (`app.listen`, `app.startAllMicroservices`): `runService`
 * listens first, so that readiness answers while the broker connection is being made.
 */
export async function createServiceApp(
  module: DynamicModule,
  config: ServiceConfig,
  options: ServiceAppOptions = {},
): Promise<INestApplication> {
  // Nest's own start-up lines wait until the pino logger (ServiceDefaultsModule) exists.
  const app = await NestFactory.create(module, { bufferLogs: true });
  app.useLogger(app.get(PinoNestLogger));
  if (config.log.format === 'pretty' && !prettyTarget()) {
    new Logger('Logging').warn(
      'LOG_FORMAT=pretty needs pino-pretty, a dev dependency: writing JSON',
    );
  }
  // Before pino-http (mounted at init): the request log gets this request's correlation id.
  app.use(correlationMiddleware);
  applyHttpHardening(app, config.http);
  // The document describes every route and its roles: for admins (docs/security.md).
  app.use([`/${DOCS_PATH}`, `/${DOCS_PATH}-json`], adminOnly(app.get(ApiKeys)));
  setupOpenApi(app, config.service, options.api);
  app.useGlobalFilters(
    new DomainErrorFilter(options.errorStatus ?? {}, app.get(HttpAdapterHost).httpAdapter),
  );
  connectMessaging(app);
  return app;
}

export interface ServiceDefinition<C extends ServiceConfig> {
  loadConfig: (env: Env) => C;
  module: (config: C) => DynamicModule;
  errorStatus?: Readonly<Record<string, number>>;
  api?: ApiInfo;
}

/**
 * `main.ts`: read `.env` if present, validate the config (exit 1 naming every bad variable),
 * build, listen, connect to the broker (exit 1 naming why it stays unreachable), and shut down
 * cleanly on SIGTERM/SIGINT with exit code 0.
 */
export async function runService<C extends ServiceConfig>(
  definition: ServiceDefinition<C>,
): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: C;
  try {
    config = definition.loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    process.stderr.write(`${error.message}\nSee .env.example for every variable.\n`);
    process.exit(1);
  }
  const app = await createServiceApp(definition.module(config), config, definition);
  // One service per process here: the OpenTelemetry API may serve its tracer to everyone.
  if (tracingEnabled(config.tracing)) app.get(Tracing).registerGlobal();
  // Listening before the broker connection is up: /health/ready answers 503 with the reason
  // (a refused port, a certificate) instead of nothing, which probes and operators can read.
  await app.listen(config.http.port, config.http.host);
  const logger = new Logger('Bootstrap');
  logger.log(`${config.service} listening on http://${config.http.host}:${config.http.port}`);
  let shuttingDown = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Stays registered: a second signal during the drain must not kill the process mid-way.
    process.on(signal, () => {
      if (shuttingDown) return;
      shuttingDown = true;
      logger.log(`${signal}: stopping consumers, draining in-flight work`);
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`Shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
    });
  }
  try {
    await app.startAllMicroservices();
  } catch (error) {
    logger.error(`Cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
