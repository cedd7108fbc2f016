import { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ConfigService } from '@nestjs/config';
import { SMTPServer } from 'smtp-server';
import type { NotificationConfig } from '../notification.config.js';
import { Mailer } from './mailer.service.js';

/** A real SMTP server on loopback that counts the connections it gets. */
async function startServer() {
  const stats = { connections: 0, mails: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      stats.connections++;
      callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        stats.mails++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { stats, url: `smtp://127.0.0.1:${port}`, close: () => server.close() };
}

function mailerFor(smtpUrl: string, poolSize: number): Mailer {
  const mail = { smtpUrl, poolSize, from: 'orders@shop.example', opsEmail: 'ops@shop.example' };
  return new Mailer({ get: () => mail } as unknown as ConfigService<NotificationConfig, true>);
}

const email = (n: number) => ({
  to: 'ada@example.com',
  subject: `Order ${n}`,
  text: 'Hello',
  orderId: null,
});

describe('Mailer', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => cleanup.splice(0).forEach((fn) => fn()));

  it.each([
    [10, 1],
    [0, 3],
  ])('with SMTP_POOL_SIZE=%d sends 3 e-mails over %d connection(s)', async (pool, expected) => {
    const server = await startServer();
    const mailer = mailerFor(server.url, pool);
    cleanup.push(server.close, () => mailer.onApplicationShutdown());

    for (let n = 1; n <= 3; n++) await mailer.send(email(n), `event-${n}`);

    expect(server.stats).toEqual({ connections: expected, mails: 3 });
  });
});
