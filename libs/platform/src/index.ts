export * from './config/env.js';
export * from './config/service-config.js';
export { HealthModule } from './health/health.module.js';
export { METRICS_PATH, MetricsModule, ServiceMetrics } from './metrics/metrics.module.js';
export {
  CircuitStateValue,
  exportedMetricNames,
  MetricNames,
  ShopMetrics,
} from './metrics/shop-metrics.js';
export { ZodValidationPipe } from './http/zod-validation.pipe.js';
export { correlationMiddleware } from './http/correlation.middleware.js';
export { DomainErrorFilter } from './http/domain-error.filter.js';
export { ErrorBody, errorBody } from './http/error-body.js';
export { CurrentClient, PublicRoute, RequireApiKey } from './http/api-key.guard.js';
export type { ApiClient, ApiKeyEntry, ApiKeyRole } from './http/api-keys.js';
export { credentialsOf, DEMO_API_KEYS, isDemoPassword } from './config/insecure-settings.js';
export {
  API_KEY_HEADER,
  ApiErrorResponses,
  type ApiInfo,
  ApiZodBody,
  ApiZodParam,
  ApiZodQuery,
  ApiZodResponse,
  openApiSchema,
} from './http/openapi.js';
export {
  createServiceApp,
  runService,
  type ServiceAppOptions,
  type ServiceDefinition,
} from './bootstrap.js';
export { BackgroundTasks } from './tasks/background-tasks.js';
export { amqpOutboxPublisher } from './messaging/amqp-outbox-publisher.js';
export { connectMessaging } from './messaging/connect-messaging.js';
export { ServiceDefaultsModule, type ServiceDefaultsOptions } from './service-defaults.module.js';
export { Tracing } from './tracing/tracing.js';
export { TracingModule } from './tracing/tracing.module.js';
export { type TracingConfig, tracingEnabled, tracingEnv } from './tracing/tracing.config.js';
export { MessagingAttributes, MessagingTracer } from './tracing/messaging-tracer.js';
