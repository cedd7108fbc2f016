import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib from 'amqplib';
import { withVhost } from '@app/messaging/testing';
import { brokerDefinitions, composeEnv } from '../deploy/deploy-files.js';
import { testEnv } from '../support/env.js';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

/**
 * The broker users and permissions docker-compose.yml loads (ops/rabbitmq/definitions.json),
 * imported into this suite's vhost under prefixed names: each service runs the order flow with
 * only its own rights, and cannot touch another service's queues.
 */
type Service = 'order' | 'inventory' | 'notification';
/** The password each service connects with in docker-compose.yml. */
const PASSWORDS = Object.fromEntries(
  (['order', 'inventory', 'notification'] as const).map((name) => [
    name,
    decodeURIComponent(new URL(composeEnv(name).RABBITMQ_URL ?? '').password),
  ]),
) as Record<Service, string>;

describe('broker permissions from ops/rabbitmq/definitions.json', () => {
  const prefix = `perm-${randomBytes(3).toString('hex')}`;
  const definitions = brokerDefinitions;
  let system: TestSystem;

  const userUrl = (service: Service) => {
    const url = new URL(withVhost(testEnv.rabbitUrl, system.vhost));
    url.username = `${prefix}-${service}`;
    url.password = PASSWORDS[service];
    return url.toString();
  };

  beforeAll(async () => {
    system = await TestSystem.start('perms', { services: [] });
    const services = Object.keys(PASSWORDS);
    await system.admin.importDefinitions({
      users: definitions.users
        .filter((u) => services.includes(u.name))
        .map((u) => ({ ...u, name: `${prefix}-${u.name}` })),
      permissions: definitions.permissions
        .filter((p) => services.includes(p.user))
        .map((p) => ({ ...p, user: `${prefix}-${p.user}`, vhost: system.vhost })),
    });
    for (const service of ['inventory', 'notification', 'order'] as Service[]) {
      await system.startService(service, { RABBITMQ_URL: userUrl(service) });
    }
  });

  afterAll(async () => {
    await system?.stop();
    for (const service of Object.keys(PASSWORDS))
      await system?.admin.deleteUser(`${prefix}-${service}`);
  });

  it('lets each service run the order flow with its own user only', async () => {
    expect(definitions.vhosts).toEqual([{ name: 'shop' }]);
    expect(definitions.users.map((u) => u.name)).not.toContain('guest');
    await http('PUT', system.url('inventory', '/stock/PERM-1'), { available: 3 });
    const order = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'perms@example.com',
      items: [{ sku: 'PERM-1', quantity: 1 }],
    });
    expect(order.body.status).toBe('CONFIRMED');
    await system.smtp.waitForMail('perms@example.com', `Order ${order.body.id} confirmed`);
  });

  /** Runs `action` on a fresh channel of `service`'s user; resolves with the broker's refusal, if any. */
  async function refusal(
    service: Service,
    action: (ch: amqplib.Channel) => Promise<unknown>,
  ): Promise<string | undefined> {
    const connection = await amqplib.connect(userUrl(service));
    connection.on('error', () => undefined);
    const ch = await connection.createChannel();
    ch.on('error', () => undefined);
    try {
      await action(ch);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  it("refuses a service another service's queues", async () => {
    expect(
      await refusal('inventory', (ch) => ch.consume('notification.events', () => undefined)),
    ).toMatch(/ACCESS_REFUSED/);
    expect(await refusal('notification', (ch) => ch.purgeQueue('inventory.rpc'))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await refusal('order', (ch) => ch.consume('inventory.rpc', () => undefined))).toMatch(
      /ACCESS_REFUSED/,
    );
    expect(await refusal('notification', (ch) => ch.assertQueue('inventory.sneaky'))).toMatch(
      /ACCESS_REFUSED/,
    );
    // …while its own queues are its to use.
    expect(
      await refusal('notification', (ch) => ch.checkQueue('notification.dlq')),
    ).toBeUndefined();
  });
});
