import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ServiceConfig } from '../config/service-config.js';
import { ApiKeys } from './api-keys.js';

/**
 * The service's API keys (API_KEYS), hashed once, for the guards that tell clients apart (the
 * rate limit and the key guard import this module and share its one instance).
 */
@Module({
  providers: [
    {
      provide: ApiKeys,
      inject: [ConfigService],
      useFactory: (config: ConfigService<ServiceConfig, true>) =>
        new ApiKeys(config.get('http.apiKeys', { infer: true })),
    },
  ],
  exports: [ApiKeys],
})
export class ApiKeysModule {}
