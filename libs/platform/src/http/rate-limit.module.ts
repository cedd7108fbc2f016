import {
  type DynamicModule,
  type ExecutionContext,
  Inject,
  Injectable,
  Module,
} from '@nestjs/common';
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
import type { HttpConfig } from '../config/service-config.js';
import { HTTP_CONFIG } from './api-key.guard.js';
import { ApiKeys } from './api-keys.js';
import { API_KEY_HEADER } from './openapi.js';

/** Probes and scrapers poll these; a limit on them would only make a healthy service look down. */
const UNLIMITED = /^\/(health|metrics)(\/|$)/;

/**
 * @nestjs/throttler's guard, counting per client rather than per route: a client is its API
 * key when it sends a configured one (callers behind one proxy stay apart), else its IP. HTTP
 * only: the message handlers of the same app pass.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly keys: ApiKeys;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(HTTP_CONFIG) http: HttpConfig,
  ) {
    super(options, storage, reflector);
    this.keys = new ApiKeys(http.apiKeys);
  }

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return UNLIMITED.test(context.switchToHttp().getRequest<Request>().path);
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const key = this.keys.known((req as unknown as Request).header(API_KEY_HEADER));
    return key ? `key:${key}` : `ip:${await super.getTracker(req)}`;
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
  static forRoot(http: HttpConfig): DynamicModule {
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: http.rateLimitPerMinute }],
          errorMessage: `Too many requests: at most ${http.rateLimitPerMinute} a minute`,
        }),
      ],
      providers: [
        { provide: HTTP_CONFIG, useValue: http },
        { provide: APP_GUARD, useClass: RateLimitGuard },
      ],
    };
  }
}
