import { type DynamicModule, type ExecutionContext, Injectable, Module } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  ThrottlerModule,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request } from 'express';
import { ConfigService } from '@nestjs/config';
import type { ServiceConfig } from '../config/service-config.js';
import { ApiKeys } from './api-keys.js';
import { ApiKeysModule } from './api-keys.module.js';
import { presentedKey } from './api-key.guard.js';

/** Probes and scrapers poll these; a limit on them would only make a healthy service look down. */
const UNLIMITED = /^\/(health|metrics)(\/|$)/;

/**
 * @nestjs/throttler's guard, counting per client rather than per route: a client is the one its API
 * key belongs to when it sends a configured one (callers behind one proxy stay apart), else its IP. HTTP
 * only: the message handlers of the same app pass.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly keys: ApiKeys,
  ) {
    super(options, storage, reflector);
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return UNLIMITED.test(context.switchToHttp().getRequest<Request>().path);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const client = this.keys.identify(presentedKey(req as unknown as Request));
    return client ? `client:${client.id}` : `ip:${await super.getTracker(req)}`;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }
}

/**
 * HTTP_RATE_LIMIT requests a minute per client, counted in this process (each replica counts
 * its own; put a shared store behind ThrottlerModule if that matters). Loaded only when the
 * limit is on: see HttpHardeningModule.
 */
@Module({})
export class RateLimitModule {
  static forRoot(): DynamicModule {
    return {
      module: RateLimitModule,
      imports: [
        ApiKeysModule,
        ThrottlerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<ServiceConfig, true>) => {
            const perMinute = config.get('http.rateLimitPerMinute', { infer: true });
            return {
              throttlers: [{ ttl: 60_000, limit: perMinute }],
              errorMessage: `Too many requests: at most ${perMinute} a minute`,
            };
          },
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
