import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { waitFor } from '@app/messaging/testing';
import { http, type HttpResult } from '../support/http.js';
import { type FaultSystem, usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';

const SKU = 'FAULT-ORDER';
const STOCK = 10_000;

/**
 * The order service killed (-9) at each point of an order's life where a crash leaves work
 * half-done; a client retries with its Idempotency-Key once order is back. Only order's broker
 * connection goes through the proxy (point c). Sweeper: PENDING orders rejected after 6 s.
 */
describe('the order service killed at each point of an order, under load', () => {
  const broker = usePrivateBroker();

  it(
    'settles every order once after kill -9 before the reply, before the CONFIRMED commit and before order.confirmed is published',
    () =>
      withFaultSystem(broker(), 'kill-order', { brokerProxyFor: ['order'] }, async (system) => {
        const retried: Promise<void>[] = [];
        await underLoad(system, { sku: SKU, stock: STOCK }, async () => {
          // (a) The order is stored PENDING; inventory is frozen, so no reply comes.
          const a = await placeFrozen(system);
          await killOrder(system);
          expect(await statusOf(system, a.id)).toBe('PENDING');
          system.service('inventory').resume();
          await system.service('order').start();
          retried.push(retryAnswersSameOrder(system, a));

          // (b) Inventory reserved and replied; the CONFIRMED commit waits on a row lock.
          const b = await placeFrozen(system);
          const lock = await lockOrder(system, b.id);
          try {
            system.service('inventory').resume();
            await settleBlocked(system, b.id, lock);
            await killOrder(system);
            expect(await statusOf(system, b.id)).toBe('PENDING');
          } finally {
            await lock.query('rollback').finally(() => lock.release());
          }
          await system.service('order').start();
          retried.push(retryAnswersSameOrder(system, b));

          // (c) CONFIRMED committed with its event, which cannot leave: order's broker
          //     connection is frozen when the lock lets the commit through.
          const c = await placeFrozen(system);
          const proxy = system.brokerProxy!;
          const lockC = await lockOrder(system, c.id);
          try {
            system.service('inventory').resume();
            await settleBlocked(system, c.id, lockC);
            expect(proxy.stall()).toBeGreaterThan(0);
          } finally {
            await lockC.query('rollback').finally(() => lockC.release());
          }
          await waitFor('the CONFIRMED commit', async () => {
            return (await statusOf(system, c.id)) === 'CONFIRMED';
          });
          // Witness: order writes into the frozen network (the relay's confirms, the load's
          // RPCs wait there), so the event it committed cannot reach the broker.
          await waitFor('order to talk into the frozen network', () => {
            return proxy.heldFromClients > 0;
          });
          await killOrder(system);
          expect(await unpublished(system, c.id)).toEqual(['order.confirmed']);
          proxy.cut(); // what the dead process had written never reaches the broker
          proxy.resume();
          await system.service('order').start();
          retried.push(retryAnswersSameOrder(system, c, 'CONFIRMED'));
        });
        await Promise.all(retried);
      }),
    180_000,
  );
});

interface Placed {
  id: string;
  key: string;
  body: unknown;
  /** The request itself: it fails when order is killed under it. */
  request: Promise<HttpResult<{ status: string }>>;
}

/**
 * Freezes inventory (SIGSTOP), places an order with an Idempotency-Key and waits until order
 * has stored it PENDING: order now waits for an RPC reply that cannot come.
 */
async function placeFrozen(system: FaultSystem): Promise<Placed> {
  const inventory = system.service('inventory');
  inventory.pause();
  await waitFor('the kernel to stop inventory', () => inventory.paused); // witness
  const key = randomUUID();
  const body = {
    customerEmail: `crash-${key}@example.com`,
    items: [{ sku: `${SKU}-A`, quantity: 1 }],
  };
  const request = http<{ status: string }>('POST', system.url('order', '/orders'), body, {
    'idempotency-key': key,
  });
  request.catch(() => undefined); // order dies under it
  const id = await waitFor('order to store the order PENDING', async () => {
    const { rows } = await system.db.query<{ id: string }>(
      'select id from orders.orders where idempotency_key = $1',
      [key],
    );
    return rows[0]?.id;
  });
  return { id, key, body, request };
}

/** `kill -9` of order, with the witness that it died of it. */
async function killOrder(system: FaultSystem): Promise<void> {
  const order = system.service('order');
  await order.kill();
  expect(order.exitSignal).toBe('SIGKILL');
}

/** A transaction of the test's holding the order's row: order's settle blocks on it. */
async function lockOrder(system: FaultSystem, id: string): Promise<pg.PoolClient> {
  const client = await system.db.connect();
  await client.query('begin');
  await client.query('select 1 from orders.orders where id = $1 for update', [id]);
  return client;
}

/**
 * Witness for points b and c: inventory holds the reservation (it replied RESERVED), and a
 * backend of order waits on the test's lock (order got the reply and is settling).
 */
async function settleBlocked(system: FaultSystem, id: string, lock: pg.PoolClient) {
  const [{ pid }] = (await lock.query<{ pid: number }>('select pg_backend_pid() as pid')).rows;
  await waitFor('inventory to reserve, and order to wait on the lock to commit', async () => {
    const { rows } = await system.db.query<{ reserved: boolean; waiting: number }>(
      `select exists(select 1 from inventory.reservations
                      where order_id = $1 and status = 'RESERVED') as reserved,
              (select count(*)::int from pg_stat_activity
                where $2 = any(pg_blocking_pids(pid))) as waiting`,
      [id, pid],
    );
    return rows[0]!.reserved && rows[0]!.waiting > 0;
  });
}

async function statusOf(system: FaultSystem, id: string): Promise<string | undefined> {
  const { rows } = await system.db.query<{ status: string }>(
    'select status from orders.orders where id = $1',
    [id],
  );
  return rows[0]?.status;
}

/** Types of the order's events still in order's outbox. */
async function unpublished(system: FaultSystem, id: string): Promise<string[]> {
  const { rows } = await system.db.query<{ type: string }>(
    `select type from orders.outbox_messages
      where published_at is null and payload->>'orderId' = $1 order by id`,
    [id],
  );
  return rows.map((r) => r.type).filter((t) => t !== 'order.created');
}

/**
 * The client whose request died with order sends it again, same key: it gets the same order,
 * settled (REJECTED by the sweeper if inventory's reply was lost, unless `status` is given).
 */
async function retryAnswersSameOrder(
  system: FaultSystem,
  placed: Placed,
  status?: string,
): Promise<void> {
  // Killed before settling, order never answered; after (c)'s commit it may have.
  const first = await placed.request.then(
    (res) => res.body.status,
    () => 'no answer',
  );
  expect(status ? ['no answer', status] : ['no answer']).toContain(first);
  const answer = await waitFor(
    'the retried request to find its order settled',
    async () => {
      const res = await http<{ id: string; status: string }>(
        'POST',
        system.url('order', '/orders'),
        placed.body,
        { 'idempotency-key': placed.key },
      );
      return res.body.status !== 'PENDING' && res;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  expect(answer.status).toBe(201);
  expect(answer.body.id).toBe(placed.id);
  expect(answer.headers.get('idempotent-replayed')).toBe('true');
  if (status) expect(answer.body.status).toBe(status);
}
