import { expect } from '@jest/globals';
import { waitFor } from '@app/messaging/testing';
import type { FaultSystem } from './fault-system.js';
import type { OrderLoad, OrderLoadOptions } from './order-load.js';

export interface InvariantOptions {
  sku: string;
  initialStock: number;
  /** Queues allowed to hold messages at the end (a case that dead-letters on purpose). */
  allowMessagesIn?: readonly string[];
  /** Bound of each wait for the system to settle. */
  timeoutMs?: number;
}

export interface Outcome {
  orders: number;
  accepted: number;
  confirmed: number;
  rejected: number;
  cancelled: number;
}

interface OrderRow {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  quantity: number;
  reservation: string | null;
}

const FINAL = ['CONFIRMED', 'REJECTED', 'CANCELLED'];
/** The e-mail subjects (see apps/notification/src/notifications/email.ts) each state implies. */
const MAILS: Record<string, readonly string[]> = {
  CONFIRMED: ['confirmed'],
  REJECTED: ['could not be accepted'],
  CANCELLED: ['confirmed', 'cancelled'],
};

export interface UnderLoadOptions {
  sku: string;
  /** Units of `sku` in stock when the load starts. */
  stock: number;
  /** Orders confirmed before the fault, and again after it, before the load stops. */
  confirmed?: number;
  load?: OrderLoadOptions;
}

/**
 * The frame of a fault case: `stock` units of `sku`, a steady order load, `fault` once
 * `confirmed` orders went through, `confirmed` more once it returns (the system works again),
 * then the load stops and the invariants are checked.
 */
export async function underLoad(
  system: FaultSystem,
  { sku, stock, confirmed = 8, load: loadOptions }: UnderLoadOptions,
  fault: (load: OrderLoad) => Promise<void>,
): Promise<Outcome> {
  await system.setStock(sku, stock);
  const load = system.startLoad(sku, loadOptions);
  await load.waitForConfirmed(confirmed);
  await fault(load);
  await load.waitForConfirmed(confirmed);
  await load.stop();
  return assertNothingLostNothingTwice(system, load, { sku, initialStock: stock });
}

/**
 * Nothing lost, nothing done twice, nothing stuck, once the system has settled after a fault.
 * Covers every order in the database, including ones whose request failed (a 500 or a
 * dropped connection) after the order was stored.
 */
export async function assertNothingLostNothingTwice(
  system: FaultSystem,
  load: OrderLoad,
  options: InvariantOptions,
): Promise<Outcome> {
  const timeoutMs = options.timeoutMs ?? 45_000;
  const settle = (what: string, problem: () => Promise<string | undefined>) =>
    settled(what, problem, timeoutMs);

  await settle('every accepted order to reach a final state', async () => {
    const pending: string[] = [];
    for (const { id } of load.accepted) {
      const res = await fetch(system.url('order', `/orders/${id}`));
      const body = (await res.json()) as { status?: string };
      if (!FINAL.includes(body.status ?? '')) pending.push(`${id}: ${body.status}`);
    }
    return pending.length > 0 ? `not final: ${pending.join(', ')}` : undefined;
  });
  await settle('no order to be left PENDING', async () => {
    const pending = (await orders(system)).filter((o) => o.status === 'PENDING');
    return pending.length > 0 ? `${pending.length} PENDING` : undefined;
  });
  await settle('every outbox row to be published', async () => {
    const { rows } = await system.db.query<{ unpublished: string }>(
      `select (select count(*) from orders.outbox_messages where published_at is null)
            + (select count(*) from inventory.outbox_messages where published_at is null) as unpublished`,
    );
    return rows[0]!.unpublished !== '0' ? `${rows[0]!.unpublished} unpublished` : undefined;
  });
  await settle('every queue of the vhost to be empty and fully acked', async () => {
    const depths = await system.broker.queueDepths(system.vhost);
    const busy = Object.entries(depths).filter(
      ([name, d]) => d.ready + d.unacked > 0 && !options.allowMessagesIn?.includes(name),
    );
    return busy.length > 0 ? JSON.stringify(Object.fromEntries(busy)) : undefined;
  });

  const all = await orders(system);
  const confirmedUnits = all
    .filter((o) => o.status === 'CONFIRMED')
    .reduce((sum, o) => sum + o.quantity, 0);
  const expectedStock = options.initialStock - confirmedUnits;
  await settle(`stock of ${options.sku} to be ${expectedStock}`, async () => {
    const res = await fetch(system.url('inventory', `/stock/${options.sku}`));
    const { available } = (await res.json()) as { available: number };
    return available !== expectedStock ? `available ${available}` : undefined;
  });
  const expectedMails = all.reduce((n, o) => n + MAILS[o.status]!.length, 0);
  await settle(`${expectedMails} e-mails`, async () =>
    system.smtp.mails.length < expectedMails ? `${system.smtp.mails.length} so far` : undefined,
  );
  await settle('one notification row per event', async () => {
    for (const order of all) {
      const res = await fetch(system.url('notification', `/notifications?orderId=${order.id}`));
      const rows = (await res.json()) as { eventId: string }[];
      const ids = new Set(rows.map((r) => r.eventId));
      if (rows.length !== MAILS[order.status]!.length || ids.size !== rows.length) {
        return `${order.status} order ${order.id} has ${rows.length} row(s)`;
      }
    }
    return undefined;
  });

  // Exactly once, per order: the e-mails, and what inventory holds for it.
  const subjects = (id: string) =>
    system.smtp.mails
      .filter((m) => m.subject.includes(id))
      .map((m) => m.subject.replace(`Order ${id} `, ''))
      .sort();
  expect(all.map((o) => [o.id, subjects(o.id)])).toEqual(
    all.map((o) => [o.id, [...MAILS[o.status]!].sort()]),
  );
  expect(system.smtp.mails).toHaveLength(expectedMails);
  expect(all.filter((o) => (o.status === 'CONFIRMED') !== (o.reservation === 'RESERVED'))).toEqual(
    [],
  );
  const ids = new Set(all.map((o) => o.id));
  expect(load.accepted.filter((o) => !ids.has(o.id))).toEqual([]);

  const count = (status: string) => all.filter((o) => o.status === status).length;
  const outcome: Outcome = {
    orders: all.length,
    accepted: load.accepted.length,
    confirmed: count('CONFIRMED'),
    rejected: count('REJECTED'),
    cancelled: count('CANCELLED'),
  };
  process.stderr.write(
    `  [${system.suite}] ${outcome.orders} orders: ${outcome.confirmed} confirmed, ${outcome.rejected} rejected; ` +
      `${load.failures.length} requests failed; ${system.smtp.mails.length} e-mails, ${system.smtp.refused} refused\n`,
  );
  return outcome;
}

async function orders(system: FaultSystem): Promise<OrderRow[]> {
  const { rows } = await system.db.query<OrderRow>(
    `select o.id, o.status,
            (select coalesce(sum((i->>'quantity')::int), 0) from jsonb_array_elements(o.items) i)::int as quantity,
            r.status as reservation
       from orders.orders o left join inventory.reservations r on r.order_id = o.id`,
  );
  return rows;
}

/** Waits until `problem` reports none; on timeout, fails with the last problem it saw. */
async function settled(
  what: string,
  problem: () => Promise<string | undefined>,
  timeoutMs: number,
): Promise<void> {
  let last: string | undefined = 'not checked yet';
  try {
    await waitFor(
      what,
      async () => {
        last = await problem();
        return last === undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${last}`, { cause: error });
  }
}
