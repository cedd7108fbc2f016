import { type DynamicModule, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { HttpConfig } from '../config/service-config.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeys } from './api-keys.js';

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
  constructor(private readonly keys: ApiKeys) {}

  static forRoot(http: HttpConfig): DynamicModule {
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
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
    };
  }

  onApplicationBootstrap(): void {
    if (this.keys.open) {
      new Logger('ApiKeys').warn(
        'Neither API_KEYS nor ADMIN_API_KEYS is set: write and admin endpoints take requests without a key (development only)',
      );
    }
  }
}
