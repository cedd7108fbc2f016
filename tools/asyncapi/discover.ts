import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import {
  PATTERN_EXTRAS_METADATA,
  PATTERN_HANDLER_METADATA,
} from '@nestjs/microservices/constants.js';
import type { EventContract, MessageContract, RpcContract } from '@app/contracts';
import type { Env, ServiceConfig, ServiceDefinition } from '@app/platform';
import { serviceEntry, serviceNames } from '../../apps/services.js';

/** What one service speaks on the broker, read from its handlers' decorators. */
export interface ServiceMessaging {
  service: string;
  /** RPCs it answers (`@HandleRpc`), each with every version it accepts, oldest first. */
  answers: RpcContract[][];
  /** Events its queue is bound to (`@HandleEvent`), each with every version it accepts. */
  consumes: EventContract[][];
}

/** Builds a service's root module, keeping each definition's own config type. */
const moduleOf =
  <C extends ServiceConfig>(definition: ServiceDefinition<C>) =>
  (env: Env): DynamicModule =>
    definition.module(definition.loadConfig(env));

/** Every service of apps/services.ts (npm run new:service adds to it). */
const modules: Record<string, (env: Env) => DynamicModule> = Object.fromEntries(
  serviceNames.map((name) => [name, moduleOf(serviceEntry(name).definition)]),
);

/** Enough configuration to build each app's module; nothing connects. */
const ENV = {
  RABBITMQ_URL: 'amqp://localhost',
  DATABASE_URL: 'postgres://localhost/docs',
  SMTP_URL: 'smtp://localhost:1025',
  HTTP_RATE_LIMIT: '0',
  INSECURE_DEV_MODE: 'true',
};

/** Nest's PatternHandler: 1 message (RPC), 2 event. */
const RPC_HANDLER = 1;

export function discoverServices(): ServiceMessaging[] {
  return Object.entries(modules).map(([service, build]) => {
    const module = build(ENV);
    const answers: RpcContract[][] = [];
    const consumes: EventContract[][] = [];
    for (const controller of module.controllers ?? []) {
      const prototype = (controller as { prototype: object }).prototype;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const method = Object.getOwnPropertyDescriptor(prototype, key)?.value as unknown;
        if (typeof method !== 'function') continue;
        const kind = Reflect.getMetadata(PATTERN_HANDLER_METADATA, method) as number | undefined;
        const extras = Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as
          { contracts?: MessageContract[] } | undefined;
        if (kind === undefined || !extras?.contracts) continue;
        if (kind === RPC_HANDLER) answers.push(extras.contracts as RpcContract[]);
        else consumes.push(extras.contracts as EventContract[]);
      }
    }
    return { service, answers, consumes };
  });
}
