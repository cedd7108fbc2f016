import type { Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { ServiceConfig } from '../config/service-config.js';
import { ApiKeys } from './api-keys.js';

/** The service's API keys (API_KEYS), for the guards that tell clients apart. */
export const apiKeysProvider: Provider = {
  provide: ApiKeys,
  inject: [ConfigService],
  useFactory: (config: ConfigService<ServiceConfig, true>) =>
    new ApiKeys(config.get('http.apiKeys', { infer: true })),
};
