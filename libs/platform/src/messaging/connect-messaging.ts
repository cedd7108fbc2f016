import type { INestApplication, INestMicroservice } from '@nestjs/common';
import { AmqpServer } from '@app/messaging';

/**
 * Connects the AMQP transport to `app` without the HTTP API's global enhancers (not
 * `inheritAppConfig`): its guards (API keys, rate limit) and its error filter would otherwise
 * run on every message too, for nothing, since none of them applies to one. The message
 * handlers' own filter comes with their decorators (`@HandleRpc`, `@HandleEvent`).
 */
export function connectMessaging(app: INestApplication): INestMicroservice {
  return app.connectMicroservice({ strategy: app.get(AmqpServer) });
}
