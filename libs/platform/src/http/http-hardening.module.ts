import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { HttpConfig } from '../config/service-config.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeys } from './api-keys.js';

const INSECURE_DEV_MODE = Symbol('INSECURE_DEV_MODE');

/**
 * The guards of every HTTP API: the rate limit (HTTP_RATE_LIMIT, off with 0) and the API keys
 * of `@RequireApiKey()` routes.
 *
 * @nestjs/throttler is CommonJS requiring the ESM-only Nest 12: Node (20.19+) loads it, but
 * jest's module runtime on Node < 24.9 cannot, so it is imported only when the limit is on
 * (the in-process e2e suites turn it off; test/http/rate-limit.e2e-spec.ts runs a real node).
 */
@Module({})
export class HttpHardeningModule implements OnApplicationBootstrap {
  constructor(@Inject(INSECURE_DEV_MODE) private readonly insecure: boolean) {}

  static forRoot(http: HttpConfig, insecureDevMode: boolean): DynamicModule {
    const keys = new ApiKeys(http.apiKeys);
    const limit = http.rateLimitPerMinute;
    return {
      module: HttpHardeningModule,
      imports:
        limit > 0
          ? [import('./rate-limit.module.js').then((m) => m.RateLimitModule.forRoot(limit, keys))]
          : [],
      providers: [
        { provide: ApiKeys, useValue: keys },
        { provide: INSECURE_DEV_MODE, useValue: insecureDevMode },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
      exports: [ApiKeys],
    };
  }

  /** Said on every start, so nobody runs a development set-up in production unawares. */
  onApplicationBootstrap(): void {
    if (this.insecure) {
      new Logger('Security').warn(
        'INSECURE_DEV_MODE is on: without API_KEYS every route is open, and the documented demo keys and passwords are accepted. Never in production (docs/security.md).',
      );
    }
  }
}
