import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib, { type ConfirmChannel, type Options } from 'amqplib';
import { OrderConfirmed } from '@app/contracts';
import { withVhost } from '@app/messaging/testing';
import { brokerDefinitions, composeEnv } from '../deploy/deploy-files.js';
import { testEnv } from '../support/env.js';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

/**
 * The broker users and permissions docker-compose.yml loads (ops/rabbitmq/definitions.json),
 * imported into this suite's vhost under prefixed names, with the services told who is who
 * (BROKER_USERS). Each service runs the order flow with only its own rights; each forgery the
 * security review found is tried with each service's credentials and is refused by the broker
 * or dead-lettered by the consumer, with no effect (docs/security.md).
 */
type Service = 'order' | 'inventory' | 'notification';
const SERVICES: Service[] = ['order', 'inventory', 'notification'];
/** The password each service connects with in docker-compose.yml. */
const PASSWORDS = Object.fromEntries(
  SERVICES.map((name) => [
    name,
    decodeURIComponent(new URL(composeEnv(name).RABBITMQ_URL ?? '').password),
  ]),
) as Record<Service, string>;

describe('broker permissions and trusted publishers (ops/rabbitmq/definitions.json)', () => {
  const prefix = `perm-${randomBytes(3).toString('hex')}`;
  const definitions = brokerDefinitions;
  const userOf = (service: string) => `${prefix}-${service}`;
  let system: TestSystem;
  let sku: string;
  let confirmed: { id: string; customerEmail: string };

  const userUrl = (service: Service) => {
    const url = new URL(withVhost(testEnv.rabbitUrl, system.vhost));
    url.username = userOf(service);
    url.password = PASSWORDS[service];
    return url.toString();
  };

  beforeAll(async () => {
    system = await TestSystem.start('perms', { services: [] });
    const ours = (name: string) => SERVICES.some((s) => name === s || name === `${s}-dlq`);
    const here = <T extends { vhost: string }>(entry: T) => ({ ...entry, vhost: system.vhost });
    await system.admin.importDefinitions({
      users: definitions.users
        .filter((u) => ours(u.name))
        .map((u) => ({ ...u, name: userOf(u.name) })),
      permissions: definitions.permissions
        .filter((p) => ours(p.user))
        .map((p) => ({ ...here(p), user: userOf(p.user) })),
      topic_permissions: definitions.topic_permissions
        .filter((p) => ours(p.user))
        .map((p) => ({ ...here(p), user: userOf(p.user) })),
      exchanges: definitions.exchanges.map(here),
    });
    const brokerUsers = SERVICES.map((s) => `${s}=${userOf(s)}`).join(',');
    for (const service of ['inventory', 'notification', 'order'] as Service[]) {
      // Compose's demo passwords: accepted only with the development switch compose sets too.
      await system.startService(service, {
        RABBITMQ_URL: userUrl(service),
        BROKER_USERS: brokerUsers,
        INSECURE_DEV_MODE: 'true',
      });
    }
    sku = await system.stockNewSku(5, 'PERM');
    const placed = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'perms@example.com',
      items: [{ sku, quantity: 1 }],
    });
    confirmed = placed.body;
  });

  afterAll(async () => {
    await system?.stop();
    for (const name of definitions.users.map((u) => u.name))
      await system?.admin.deleteUser(userOf(name));
  });

  it('lets each service run the order flow with its own user only', async () => {
    expect(definitions.vhosts).toEqual([{ name: 'shop' }]);
    expect(definitions.users.map((u) => u.name)).not.toContain('guest');
    expect(confirmed).toMatchObject({ status: 'CONFIRMED' });
    const mail = await system.smtp.waitForMail(
      'perms@example.com',
      `Order ${confirmed.id} confirmed`,
    );
    expect(mail).toBeDefined();
    // Every event carries its publisher's user, which the broker vouched for.
    const event = system.probe.all(OrderConfirmed).at(-1);
    expect(event?.userId).toBe(userOf('order'));
  });

  /** Runs `action` on a fresh confirm channel of `service`'s user: the broker's refusal, if any. */
  async function refusal(
    service: Service,
    action: (ch: ConfirmChannel) => Promise<unknown>,
  ): Promise<string | undefined> {
    const connection = await amqplib.connect(userUrl(service));
    connection.on('error', () => undefined);
    const ch = await connection.createConfirmChannel();
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

  const publish =
    (exchange: string, routingKey: string, body: unknown, options: Options.Publish) =>
    (ch: ConfirmChannel) =>
      new Promise<void>((resolve, reject) => {
        ch.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), options, (err) =>
          err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
        );
        // A refused publish closes the channel; the confirm never comes.
        ch.once('close', () => reject(new Error('channel closed')));
        ch.once('error', (err: Error) => reject(err));
      });

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

  it.each(SERVICES)('refuses %s to delete or re-declare the events exchange', async (service) => {
    expect(await refusal(service, (ch) => ch.deleteExchange('events'))).toMatch(/ACCESS_REFUSED/);
    expect(await refusal(service, (ch) => ch.assertExchange('events', 'fanout'))).toMatch(
      /ACCESS_REFUSED/,
    );
  });

  it.each(SERVICES)('refuses %s a user_id other than its own', async (service) => {
    // Somewhere the user may publish to, so that only user_id is wrong.
    const exchange = service === 'notification' ? 'notification.dlx' : '';
    const claimed = service === 'order' ? userOf('inventory') : userOf('order');
    const forged = publish(exchange, 'nowhere', {}, { userId: claimed });
    expect(await refusal(service, forged)).toMatch(/PRECONDITION_FAILED.*user_id/);
  });

  it('refuses notification any write to the default exchange (it reaches every queue)', async () => {
    const reserve = publish(
      '',
      'inventory.rpc',
      { orderId: randomUUID(), items: [{ sku, quantity: 4 }] },
      {
        type: 'inventory.reserve',
        userId: userOf('notification'),
        replyTo: 'amq.rabbitmq.reply-to',
      },
    );
    expect(await refusal('notification', reserve)).toMatch(/ACCESS_REFUSED/);
  });

  it.each(SERVICES)('limits %s to routing keys of its own prefix on events', async (service) => {
    const other = SERVICES.find((s) => s !== service)!;
    const event = publish(
      'events',
      `${other}.forged`,
      {},
      { type: `${other}.forged`, userId: userOf(service) },
    );
    expect(await refusal(service, event)).toMatch(/ACCESS_REFUSED/);
  });

  /**
   * Each forgery of the review, with each service's credentials: the broker refuses it, or the
   * consumer dead-letters it with `reasons`, and nothing happens (`unchanged` still holds).
   */
  interface Forgery {
    name: string;
    /** The services whose credentials send it (not its legitimate publisher). */
    senders: Service[];
    send: (sender: Service, marker: string) => (ch: ConfirmChannel) => Promise<void>;
    dlq: string;
    reasons: string[];
  }
  const facts = (marker: string) => ({
    orderId: confirmed.id,
    customerEmail: `${marker}@forger.example`,
    items: [{ sku, quantity: 1 }],
    occurredAt: new Date().toISOString(),
  });
  const forgeries: Forgery[] = [
    {
      name: 'order.cancelled for a CONFIRMED order, on events',
      senders: ['inventory', 'notification'],
      send: (sender, marker) =>
        publish('events', 'order.cancelled', facts(marker), {
          type: 'order.cancelled',
          messageId: marker,
          userId: userOf(sender),
        }),
      dlq: 'inventory.dlq',
      reasons: ['untrusted-publisher'],
    },
    {
      name: 'order.cancelled dropped straight into inventory.events',
      senders: ['order', 'inventory', 'notification'],
      send: (sender, marker) =>
        publish('', 'inventory.events', facts(marker), {
          type: 'order.cancelled',
          messageId: marker,
          userId: userOf(sender),
        }),
      dlq: 'inventory.dlq',
      reasons: ['invalid'],
    },
    {
      name: 'inventory.reserve for the last units, dropped into inventory.rpc',
      senders: ['inventory', 'notification'],
      send: (sender, marker) => async (ch) => {
        // As a caller would: listening for the reply (direct reply-to) before asking.
        await ch.consume('amq.rabbitmq.reply-to', () => undefined, { noAck: true });
        await publish(
          '',
          'inventory.rpc',
          { orderId: randomUUID(), items: [{ sku, quantity: 4 }], marker },
          {
            type: 'inventory.reserve',
            messageId: marker,
            correlationId: marker,
            replyTo: 'amq.rabbitmq.reply-to',
            userId: userOf(sender),
          },
        )(ch);
      },
      dlq: 'inventory.dlq',
      reasons: ['untrusted-publisher'],
    },
    {
      name: 'type order.confirmed on routing key inventory.stock-low',
      senders: ['order', 'inventory', 'notification'],
      send: (sender, marker) =>
        publish('events', 'inventory.stock-low', facts(marker), {
          type: 'order.confirmed',
          messageId: marker,
          userId: userOf(sender),
        }),
      dlq: 'notification.dlq',
      reasons: ['invalid'],
    },
    {
      name: 'order.confirmed dropped straight into notification.events',
      senders: ['order', 'inventory', 'notification'],
      send: (sender, marker) =>
        publish('', 'notification.events', facts(marker), {
          type: 'order.confirmed',
          messageId: marker,
          userId: userOf(sender),
        }),
      dlq: 'notification.dlq',
      reasons: ['invalid'],
    },
  ];
  const attempts = forgeries.flatMap((f) =>
    f.senders.map((sender) => [f.name, sender, f] as const),
  );

  it.each(attempts)(
    '%s, sent as %s: refused or dead-lettered, with no effect',
    async (_, sender, forgery) => {
      const marker = `forgery-${randomUUID()}`;
      const refused = await refusal(sender, forgery.send(sender, marker));
      if (refused === undefined) {
        const dead = await system.probe.take(forgery.dlq, marker);
        expect(forgery.reasons).toContain(dead.properties.headers?.['x-death-reason']);
      } else {
        expect(refused).toMatch(/ACCESS_REFUSED/);
      }
      // No effect: the stock still holds the confirmed order's unit, the order is still
      // CONFIRMED, and nothing was mailed to the forger's address.
      expect((await http('GET', system.url('inventory', `/stock/${sku}`))).body.available).toBe(4);
      expect((await http('GET', system.url('order', `/orders/${confirmed.id}`))).body.status).toBe(
        'CONFIRMED',
      );
      expect(system.smtp.mailsTo(`${marker}@forger.example`)).toEqual([]);
    },
  );

  it('dead-letters a message above the size limit unread, even from its owner', async () => {
    const marker = `large-${randomUUID()}`;
    const huge = { ...facts(marker), padding: 'x'.repeat(70 * 1024) };
    const sent = publish('events', 'order.confirmed', huge, {
      type: 'order.confirmed',
      messageId: marker,
      userId: userOf('order'),
    });
    expect(await refusal('order', sent)).toBeUndefined();

    const dead = await system.probe.take('notification.dlq', marker);
    expect(dead.properties.headers?.['x-death-reason']).toBe('too-large');
    expect(system.smtp.mailsTo(`${marker}@forger.example`)).toEqual([]);
  });
});
