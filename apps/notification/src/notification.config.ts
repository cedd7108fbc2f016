import {
  type Env,
  loadServiceConfig,
  type ServiceConfig,
  type ServiceDefaults,
} from '@app/platform';
import { z } from 'zod';

export interface NotificationConfig extends ServiceConfig {
  mail: {
    /** e.g. smtp://mailpit:1025 or smtps://user:pass@smtp.example.com:465 */
    smtpUrl: string;
    from: string;
    /** Receives inventory.stock-low alerts. */
    opsEmail: string;
    /** SMTP connections kept open and reused; 0 opens one per e-mail. */
    poolSize: number;
  };
}

/** The variables only this service reads (the common ones are in @app/platform serviceEnv). */
export const notificationEnv = z.object({
  SMTP_URL: z.string().regex(/^smtps?:\/\/\S+$/, 'must be an smtp:// or smtps:// URL'),
  MAIL_FROM: z.email().default('orders@shop.example'),
  OPS_EMAIL: z.email().default('ops@shop.example'),
  SMTP_POOL_SIZE: z.coerce.number().int().min(0).max(100).default(10),
});

/** Its HTTP port and database schema, unless HTTP_PORT / DATABASE_SCHEMA say otherwise. */
export const notificationDefaults: ServiceDefaults = { port: 3003, schema: 'notification' };

export function loadNotificationConfig(env: Env = process.env): NotificationConfig {
  const { config, env: own } = loadServiceConfig(
    'notification',
    env,
    notificationDefaults,
    notificationEnv,
  );
  return {
    ...config,
    mail: {
      smtpUrl: own.SMTP_URL,
      from: own.MAIL_FROM,
      opsEmail: own.OPS_EMAIL,
      poolSize: own.SMTP_POOL_SIZE,
    },
  };
}
