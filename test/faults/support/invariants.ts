import { expect } from '@jest/globals';
import type pg from 'pg';
import { waitFor } from '@app/messaging/testing';
import type { ReceivedMail } from '../../support/smtp.js';
import type { FaultBroker } from './fault-system.js';
import type { AcceptedOrder, FailedRequest, OrderLine, OrderLoadOptions } from './order-load.js';

/**
 * What the checks read of a system: its databases (the test's own pool), its vhost's queues
 * and the e-mails its SMTP sink took. A FaultSystem, or the partition cases' system whose
 * services run in network namespaces.
 */
export interface CheckedSystem {
  readonly suite: string;
  readonly db: pg.Pool;
  readonly vhost: string;
  readonly broker: Pick<FaultBroker, 'queueDepths'>;
  readonly smtp: { readonly mails: readonly ReceivedMail[]; readonly refused: number };
}

/** What the checks read of a load: the orders it placed, and the requests that failed. */
export interface LoadRecord {
  readonly accepted: readonly AcceptedOrder[];
  readonly failures: readonly FailedRequest[];
}

export interface RunningLoad extends LoadRecord {
  waitForConfirmed(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** A system a load can run against: stock to set, orders to place. */
export interface LoadedSystem<L extends RunningLoad> extends CheckedSystem {
  setStock(sku: string, available: number): Promise<void>;
  startLoad(skus: readonly string[], options?: OrderLoadOptions): L;
}

export interface InvariantOptions {
  /** Units of each SKU the load orders, in stock when it started. */
  stock: Readonly<Record<string, number>>;
  /** When the fault began and ended: a request may fail only if it overlapped that time. */
  faultWindow?: { from: number; to: number };
  /** Orders the test cancelled (answered CONFIRMED, CANCELLED in the end). */
  cancelled?: readonly string[];
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
  /** Rejected because a SKU ran out (the scarce one). */
  outOfStock: number;
  cancelled: number;
  /** Requests that failed (no 201), all inside the fault window. */
  failed: number;
}

export interface OrderRow {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';
  reason: string | null;
  items: OrderLine[];
  reservation: string | null;
}

export const FINAL = ['CONFIRMED', 'REJECTED', 'CANCELLED'];
/** The e-mail subjects (see apps/notification/src/notifications/email.ts) each state implies. */
export const MAILS: Record<string, readonly string[]> = {
  CONFIRMED: ['confirmed'],
  REJECTED: ['could not be accepted'],
  CANCELLED: ['confirmed', 'cancelled'],
};

export interface UnderLoadOptions {
  /** Prefix of the SKUs the load orders: two plentiful ones and a scarce one. */
  sku: string;
  /** Units of each plentiful SKU in stock when the load starts. */
  stock: number;
  /** Units of the scarce SKU: it runs out, and the orders that include it are rejected. */
  scarce?: number;
  /** Orders confirmed before the fault, and again after it, before the load stops. */
  confirmed?: number;
  load?: OrderLoadOptions;
}

/**
 * The frame of a fault case: stock of three SKUs (one scarce), clients placing multi-line
 * orders, `fault` once `confirmed` orders went through, `confirmed` more once it returns (the
 * system works again), then the load stops and the invariants are checked; a request may
 * fail only while the fault lasts.
 */
export async function underLoad<L extends RunningLoad>(
  system: LoadedSystem<L>,
  { sku, stock, scarce = 12, confirmed = 8, load: loadOptions }: UnderLoadOptions,
  fault: (load: L) => Promise<void>,
): Promise<Outcome> {
  const initial = { [`${sku}-A`]: stock, [`${sku}-B`]: stock, [`${sku}-SCARCE`]: scarce };
  for (const [name, units] of Object.entries(initial)) await system.setStock(name, units);
  const load = system.startLoad(Object.keys(initial), loadOptions);
  await load.waitForConfirmed(confirmed);
  const from = Date.now();
  await fault(load);
  const faultWindow = { from, to: Date.now() };
  await load.waitForConfirmed(confirmed);
  await load.stop();
  return assertNothingLostNothingTwice(system, load, { stock: initial, faultWindow });
}

/**
 * Nothing lost, nothing done twice, nothing stuck, once the system has settled after a fault.
 * Covers every order in the database, including ones whose request failed (a 500 or a
 * dropped connection) after the order was stored. Reads the databases, not the services'
 * APIs, so it sees what is stored, whoever may read it.
 */
export async function assertNothingLostNothingTwice(
  system: CheckedSystem,
  load: LoadRecord,
  options: InvariantOptions,
): Promise<Outcome> {
  const timeoutMs = options.timeoutMs ?? 45_000;
  const settle = (what: string, problem: () => Promise<string | undefined>) =>
    settled(what, problem, timeoutMs);

  await settle('every order to reach a final state', async () => {
    const pending = (await orders(system)).filter((o) => !FINAL.includes(o.status));
    return pending.length > 0 ? `not final: ${pending.map((o) => o.id).join(', ')}` : undefined;
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
  const expectedStock = Object.fromEntries(
    Object.entries(options.stock).map(([sku, units]) => [
      sku,
      units -
        unitsOf(
          all.filter((o) => o.status === 'CONFIRMED'),
          sku,
        ),
    ]),
  );
  await settle(`stock to be ${JSON.stringify(expectedStock)}`, async () => {
    const { rows } = await system.db.query<{ sku: string; available: number }>(
      'select sku, available from inventory.stock where sku = any($1)',
      [Object.keys(expectedStock)],
    );
    const actual = Object.fromEntries(rows.map((r) => [r.sku, r.available]));
    const wrong = Object.entries(expectedStock).some(([sku, units]) => actual[sku] !== units);
    return wrong ? `available ${JSON.stringify(actual)}` : undefined;
  });
  const expectedMails = all.reduce((n, o) => n + MAILS[o.status]!.length, 0);
  // The scarce SKU running out also alerts operations (stock low): not an order's e-mail.
  const orderMails = () => system.smtp.mails.filter((m) => m.subject.startsWith('Order '));
  await settle(`${expectedMails} e-mails`, async () =>
    orderMails().length < expectedMails ? `${orderMails().length} so far` : undefined,
  );
  await settle('one notification row per event', async () => {
    const { rows } = await system.db.query<{ order_id: string; n: number; events: number }>(
      `select order_id, count(*)::int as n, count(distinct event_id)::int as events
         from notification.notifications where order_id is not null group by order_id`,
    );
    const per = new Map(rows.map((r) => [r.order_id, r]));
    const wrong = all.filter((o) => {
      const row = per.get(o.id);
      return row?.n !== MAILS[o.status]!.length || row.events !== row.n;
    });
    return wrong.length > 0
      ? wrong.map((o) => `${o.status} order ${o.id} has ${per.get(o.id)?.n ?? 0} row(s)`).join('; ')
      : undefined;
  });

  // Exactly once, per order: the e-mails, and what inventory holds for it.
  const subjects = (id: string) =>
    orderMails()
      .filter((m) => m.subject.includes(id))
      .map((m) => m.subject.replace(`Order ${id} `, ''))
      .sort();
  expect(all.map((o) => [o.id, subjects(o.id)])).toEqual(
    all.map((o) => [o.id, [...MAILS[o.status]!].sort()]),
  );
  expect(orderMails()).toHaveLength(expectedMails);
  expect(all.filter((o) => (o.status === 'CONFIRMED') !== (o.reservation === 'RESERVED'))).toEqual(
    [],
  );
  // What each client was answered is what the order became (unless the test cancelled it).
  const byId = new Map(all.map((o) => [o.id, o]));
  const cancelled = new Set(options.cancelled ?? []);
  const final = (id: string) => {
    const status = byId.get(id)?.status;
    return status === 'CANCELLED' && cancelled.has(id) ? 'CONFIRMED' : status;
  };
  expect(load.accepted.filter((o) => final(o.id) !== o.status)).toEqual([]);
  // Requests fail only while the fault lasts.
  const window = options.faultWindow;
  const outside = load.failures.filter(
    (f) => !window || f.failedAt < window.from || f.sentAt > window.to,
  );
  expect(outside).toEqual([]);

  const count = (status: string) => all.filter((o) => o.status === status).length;
  const outcome: Outcome = {
    orders: all.length,
    accepted: load.accepted.length,
    confirmed: count('CONFIRMED'),
    rejected: count('REJECTED'),
    outOfStock: all.filter((o) => o.reason === 'OUT_OF_STOCK').length,
    cancelled: count('CANCELLED'),
    failed: load.failures.length,
  };
  process.stderr.write(
    `  [${system.suite}] ${outcome.orders} orders: ${outcome.confirmed} confirmed, ${outcome.rejected} rejected ` +
      `(${outcome.outOfStock} out of stock), ${outcome.cancelled} cancelled; ${outcome.failed} requests failed, ` +
      `all in the fault window; ${system.smtp.mails.length} e-mails, ${system.smtp.refused} refused\n`,
  );
  return outcome;
}

export async function orders(system: CheckedSystem): Promise<OrderRow[]> {
  const { rows } = await system.db.query<OrderRow>(
    `select o.id, o.status, o.rejection_reason as reason, o.items, r.status as reservation
       from orders.orders o left join inventory.reservations r on r.order_id = o.id`,
  );
  return rows;
}

function unitsOf(orders: readonly OrderRow[], sku: string): number {
  return orders
    .flatMap((o) => o.items)
    .filter((i) => i.sku === sku)
    .reduce((n, i) => n + i.quantity, 0);
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
