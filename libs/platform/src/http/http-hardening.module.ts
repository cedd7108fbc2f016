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

/** The API key guard, in a module of its own so that it is registered after the rate limit. */
@Module({})
class ApiKeyGuardModule {
  static forRoot(keys: ApiKeys): DynamicModule {
    return {
      module: ApiKeyGuardModule,
      providers: [
        { provide: ApiKeys, useValue: keys },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
      ],
      exports: [ApiKeys],
    };
  }
}

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
  constructor(@Inject(INSECURE_DEV_MODE) private readonly insecure: boolean) {}

  static forRoot(http: HttpConfig, insecureDevMode: boolean): DynamicModule {
    const keys = new ApiKeys(http.apiKeys);
    const limit = http.rateLimitPerMinute;
    return {
      module: HttpHardeningModule,
      imports: [
        ...(limit > 0
          ? [import('./rate-limit.module.js').then((m) => m.RateLimitModule.forRoot(limit, keys))]
          : []),
        ApiKeyGuardModule.forRoot(keys),
      ],
      providers: [{ provide: INSECURE_DEV_MODE, useValue: insecureDevMode }],
      exports: [ApiKeyGuardModule],
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
