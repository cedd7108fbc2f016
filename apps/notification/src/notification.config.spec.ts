import { describe, expect, it } from '@jest/globals';
import { ConfigValidationError } from '@app/platform';
import { loadNotificationConfig } from './notification.config.js';

const env = {
  RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  SMTP_URL: 'smtp://127.0.0.1:1025',
  API_KEYS: 'ops:admin:admin-key-aaaaaaaaaaaa',
};

describe('loadNotificationConfig', () => {
  it('pools 10 SMTP connections unless told otherwise; 0 turns pooling off', () => {
    expect(loadNotificationConfig(env).mail.poolSize).toBe(10);
    expect(loadNotificationConfig({ ...env, SMTP_POOL_SIZE: '0' }).mail.poolSize).toBe(0);
  });

  it('names SMTP_POOL_SIZE when it is not a whole number from 0 to 100', () => {
    for (const bad of ['-1', '2.5', '101', 'many']) {
      expect(() => loadNotificationConfig({ ...env, SMTP_POOL_SIZE: bad })).toThrow(
        ConfigValidationError,
      );
      expect(() => loadNotificationConfig({ ...env, SMTP_POOL_SIZE: bad })).toThrow(
        /SMTP_POOL_SIZE/,
      );
    }
  });
});
