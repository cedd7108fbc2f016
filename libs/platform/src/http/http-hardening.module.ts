import { type DynamicModule, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ConfigService } from '@nestjs/config';
import type { ServiceConfig } from '../config/service-config.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeysModule } from './api-keys.module.js';

/** The API key guard, in a module of its own so that it is registered after the rate limit. */
@Module({
  imports: [ApiKeysModule],
  providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [ApiKeysModule],
})
class ApiKeyGuardModule {}

/**
 * The guards of every HTTP API, in this order: the rate limit (HTTP_RATE_LIMIT, off with 0),
 * so that requests with a wrong key are limited too (no free guessing of keys), then the API
 * keys. Nest runs global guards in the order their modules are scanned: imports depth-first,
 * in the order listed.
 *
 * @nestjs/throttler is CommonJS requiring the ESM-only Nest 12: Node (20.19+) loads it, but
 * jest's module runtime on Node < 24.9 cannot, so it is imported only when the limit is on
 * (the in-process e2e suites turn it off; test/http/rate-limit.e2e-spec.ts runs a real node).
 */
@Module({})
export class HttpHardeningModule implements OnApplicationBootstrap {
  constructor(private readonly config: ConfigService<ServiceConfig, true>) {}

  /** `rateLimited`: HTTP_RATE_LIMIT is above 0 (decides whether the throttler is loaded at all). */
  static forRoot({ rateLimited }: { rateLimited: boolean }): DynamicModule {
    return {
      module: HttpHardeningModule,
      imports: [
        ...(rateLimited
          ? [import('./rate-limit.module.js').then((m) => m.RateLimitModule.forRoot())]
          : []),
        ApiKeyGuardModule,
      ],
      exports: [ApiKeyGuardModule],
    };
  }

  /** Said on every start, so nobody runs a development set-up in production unawares. */
  onApplicationBootstrap(): void {
    if (this.config.get('insecureDevMode', { infer: true })) {
      new Logger('Security').warn(
        'INSECURE_DEV_MODE is on: without API_KEYS every route is open, and the documented demo keys and passwords are accepted. Never in production (docs/security.md).',
      );
    }
  }
}
