import { type CheckedSystem, FINAL, type LoadRecord, MAILS, orders } from './invariants.js';

/**
 * What a case lost or did twice, counted rather than asserted: the invariants stop at the first
 * broken one, the comparison of partition handlings needs the numbers (a run under `ignore`
 * may break several). Counts the orders of one case (those with its SKUs).
 */
export interface Tally {
  /** Accepted orders that never became final, or are missing, plus e-mails never sent. */
  lost: number;
  /** E-mails sent more than once for one event. */
  duplicated: number;
  notFinal: number;
  mailsMissing: number;
  extraMails: number;
  /** Units by which stock differs from what the confirmed orders reserved. */
  stockDrift: number;
  /** Outbox rows (every service) not published. */
  unpublished: number;
  /** Messages ready or unacked in the vhost's queues. */
  queued: number;
  /** Orders whose final state is not what the client was answered. */
  wrongAnswers: number;
}

export async function tally(
  system: CheckedSystem,
  load: LoadRecord,
  stock: Readonly<Record<string, number>>,
): Promise<Tally> {
  const skus = Object.keys(stock);
  const mine = (await orders(system)).filter((o) => o.items.some((i) => skus.includes(i.sku)));
  const byId = new Map(mine.map((o) => [o.id, o]));
  const missingOrders = load.accepted.filter((o) => !byId.has(o.id)).length;
  let mailsMissing = 0;
  let extraMails = 0;
  for (const order of mine.filter((o) => FINAL.includes(o.status))) {
    const got = system.smtp.mails.filter((m) => m.subject.includes(order.id));
    for (const kind of MAILS[order.status]!) {
      const n = got.filter((m) => m.subject.endsWith(kind)).length;
      mailsMissing += Math.max(0, 1 - n);
      extraMails += Math.max(0, n - 1);
    }
  }
  const confirmed = mine.filter((o) => o.status === 'CONFIRMED');
  const { rows } = await system.db.query<{ sku: string; available: number }>(
    'select sku, available from inventory.stock where sku = any($1)',
    [skus],
  );
  const stockDrift = rows.reduce((sum, r) => {
    const reserved = confirmed
      .flatMap((o) => o.items)
      .filter((i) => i.sku === r.sku)
      .reduce((n, i) => n + i.quantity, 0);
    return sum + Math.abs(stock[r.sku]! - reserved - r.available);
  }, 0);
  const { rows: outbox } = await system.db.query<{ n: number }>(
    `select ((select count(*) from orders.outbox_messages where published_at is null)
           + (select count(*) from inventory.outbox_messages where published_at is null))::int as n`,
  );
  const depths = await system.broker.queueDepths(system.vhost).catch(() => ({}));
  const notFinal = mine.filter((o) => !FINAL.includes(o.status)).length;
  const wrongAnswers = load.accepted.filter((o) => {
    const status = byId.get(o.id)?.status;
    return status !== undefined && FINAL.includes(status) && status !== o.status;
  }).length;
  return {
    lost: notFinal + missingOrders + mailsMissing,
    duplicated: extraMails,
    notFinal,
    mailsMissing,
    extraMails,
    stockDrift,
    unpublished: outbox[0]!.n,
    queued: Object.values(depths).reduce((n, d) => n + d.ready + d.unacked, 0),
    wrongAnswers,
  };
}
