import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { z } from 'zod';

/**
 * Tracing variables, under the names the OpenTelemetry SDKs use
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 * Part of every service's environment (`serviceEnv`).
 */
export const tracingEnv = {
  OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp', 'console']).default('none'),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http:// or https:// URL')
    .optional(),
};

export interface TracingConfig {
  /** Where spans go; `none` (the default) registers nothing at all. */
  exporter: 'none' | 'otlp' | 'console';
  /** OTLP/HTTP base URL, `/v1/traces` is appended; unset: the exporter's default (localhost:4318). */
  otlpEndpoint?: string;
  /** Set in code only (tests): export here instead, whatever `exporter` says. */
  spanExporter?: SpanExporter;
}

export function tracingConfig(env: {
  OTEL_TRACES_EXPORTER: TracingConfig['exporter'];
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
}): TracingConfig {
  return env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? { exporter: env.OTEL_TRACES_EXPORTER, otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT }
    : { exporter: env.OTEL_TRACES_EXPORTER };
}

/** Whether a service with this config traces at all (else nothing is registered). */
export function tracingEnabled(config: TracingConfig | undefined): config is TracingConfig {
  return !!config && (config.exporter !== 'none' || config.spanExporter !== undefined);
}
