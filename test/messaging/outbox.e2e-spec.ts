import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderCreated } from '@app/contracts';
import { createPool, Database, migrateToLatest, UnitOfWork } from '@app/database';
import { AmqpClient, AmqpConnection, resolveMessagingOptions } from '@app/messaging';
import { EventProbe, RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { createOutboxTable, Outbox, OutboxRelay, outboxHeadersMigration } from '@app/outbox';
import { amqpOutboxPublisher } from '@app/platform';
import { createTestDatabase } from '../support/database.js';
import { testEnv } from '../support/env.js';

const SCHEMA = 'outbox_test';

describe('the transactional outbox', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let url: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let probe: EventProbe;
  const replicas: {
    relay: OutboxRelay;
    client: AmqpClient;
    connection: AmqpConnection;
    db: Database;
  }[] = [];

  beforeAll(async () => {
    vhost = await admin.createVhost('test-outbox');
    url = withVhost(testEnv.rabbitUrl, vhost);
    database = await createTestDatabase('outbox');
    const options = { url: database.url, schema: SCHEMA, poolSize: 4 };
    await migrateToLatest(options, {
      '001': { up: createOutboxTable },
      '002': outboxHeadersMigration,
    });
    db = new Database(createPool(options));
    probe = await EventProbe.start(url, ['order.created']);
  });

  afterAll(async () => {
    for (const r of replicas) {
      await r.relay.stop();
      await r.client.close();
      await r.connection.onApplicationShutdown();
      await r.db.close();
    }
    await probe?.close();
    await db?.close();
    await database?.drop();
    await admin.deleteVhost(vhost);
  });

  /** A replica's outbox as a service wires it: its own broker connection and database pool. */
  function startReplica(pollIntervalMs = 100): { outbox: Outbox; unitOfWork: UnitOfWork } {
    const options = resolveMessagingOptions({ urls: url, service: `relay-${replicas.length}` });
    const connection = new AmqpConnection(options);
    const client = new AmqpClient(connection, options);
    const replicaDb = new Database(createPool({ url: database.url, schema: SCHEMA, poolSize: 4 }));
    const unitOfWork = new UnitOfWork(replicaDb);
    const publisher = amqpOutboxPublisher(client);
    const relay = new OutboxRelay(unitOfWork, replicaDb, publisher, {
      batchSize: 25,
      pollIntervalMs,
    });
    replicas.push({ relay, client, connection, db: replicaDb });
    relay.start();
    return { outbox: new Outbox(replicaDb, publisher, relay), unitOfWork };
  }

  /** Raw SQL of the test's own, outside the code under test. */
  async function sql<R>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await db.pool.query(text, values)).rows as R[];
  }

  const event = (orderId: string) => ({
    orderId,
    customerEmail: 'outbox@example.com',
    items: [{ sku: 'OUT-1', quantity: 1 }],
    occurredAt: new Date().toISOString(),
  });

  it('publishes an event only if its transaction commits, and wakes on the commit', async () => {
    const { outbox, unitOfWork } = startReplica(60_000); // no polling: only the commit can wake it
    const committed = randomUUID();
    const rolledBack = randomUUID();

    await unitOfWork.run(async (tx) => outbox.add(tx, OrderCreated, event(committed)));
    await unitOfWork
      .run(async (tx) => {
        outbox.add(tx, OrderCreated, event(rolledBack));
        throw new Error('the state change failed');
      })
      .catch(() => undefined);

    const published = await probe.next(OrderCreated, {
      where: (e) => e.orderId === committed,
      timeoutMs: 2_000,
    });
    expect(published.messageId).toBeDefined();
    // Marked once the broker's confirm is in, which may come after the probe got the event.
    await waitFor('the outbox row to be marked published', async () => {
      const [row] = await sql<{ published_at: Date | null }>(
        'select published_at from outbox_messages where message_id = $1',
        [published.messageId],
      );
      return row!.published_at !== null;
    });
    expect(probe.all(OrderCreated, (e) => e.orderId === rolledBack)).toHaveLength(0);
    const rows = await sql<{ payload: { orderId: string } }>('select payload from outbox_messages');
    expect(rows.filter((r) => r.payload.orderId === rolledBack)).toHaveLength(0);
  });

  it('publishes rows committed before a crash once a relay runs again, each exactly once across replicas', async () => {
    // Rows committed while no relay ran (the process died between commit and publish).
    const orderIds = Array.from({ length: 300 }, () => randomUUID());
    await sql(
      `insert into outbox_messages (message_id, type, version, routing_key, payload, correlation_id)
       select gen_random_uuid(), $1, $2, $1, p, 'before-crash' from unnest($3::jsonb[]) as p`,
      [OrderCreated.name, OrderCreated.version, orderIds.map((id) => JSON.stringify(event(id)))],
    );

    // Three replicas compete for them.
    startReplica();
    startReplica();
    startReplica();

    await waitFor(
      'every row to be published',
      async () => {
        const [{ pending }] = (await sql<{ pending: string }>(
          'select count(*) as pending from outbox_messages where published_at is null',
        )) as [{ pending: string }];
        return Number(pending) === 0;
      },
      { timeoutMs: 20_000 },
    );
    await waitFor(
      'every event to arrive',
      () => orderIds.every((id) => probe.all(OrderCreated, (e) => e.orderId === id).length > 0),
      {
        timeoutMs: 10_000,
      },
    );

    const received = probe.received.filter((m) => m.correlationId === 'before-crash');
    expect(received).toHaveLength(orderIds.length);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(orderIds.length);
  });
});
