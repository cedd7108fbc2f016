/**
 * The floor's inventory service: answers `inventory.reserve` with the transaction of
 * apps/inventory (reservation row first, stock rows locked in SKU order, stock taken,
 * reservation settled, `inventory.reserved` in the outbox), replies, then acks.
 */
import type { ConsumeMessage } from 'amqplib';
import {
  InventoryReserve,
  InventoryReserved,
  InventoryStockLow,
  OrderCancelled,
  OrderRejected,
} from '@app/contracts';
import {
  aggregateLines,
  crossesThreshold,
  decide,
} from '../../apps/inventory/src/reservations/reservation.js';
import { rpcQueue } from '../../libs/messaging/src/topology/names.js';
import {
  addOutbox,
  connectBroker,
  floorEnv,
  floorPool,
  listen,
  onShutdown,
  OutboxRelay,
  transaction,
  topology,
  VERSION_HEADER,
} from './common.js';

const SERVICE = 'inventory';
const threshold = Number(process.env.STOCK_LOW_THRESHOLD ?? 5);

type Result =
  | { orderId: string; status: 'RESERVED'; items: { sku: string; quantity: number }[] }
  | { orderId: string; status: 'REJECTED'; reason: string; skus: string[] };

const env = floorEnv();
const pool = floorPool(env, 'inventory');
// The same queues and bindings as ours (it releases stock on these events; the bench's orders
// all confirm, and the bench checks that, so none arrives here).
const broker = await connectBroker(
  env,
  topology(SERVICE, true, [OrderCancelled.name, OrderRejected.name]),
);
const relay = new OutboxRelay(pool, broker.events, SERVICE, env.brokerUser);
const channel = await broker.connection.createChannel();
await channel.prefetch(64);

function reserve(
  orderId: string,
  items: { sku: string; quantity: number }[],
  correlationId: string | undefined,
): Promise<Result> {
  return transaction(pool, async (client) => {
    const lines = aggregateLines(items);
    const claimed = await client.query(
      "INSERT INTO reservations (order_id, status, items, result) VALUES ($1, 'PENDING', $2, NULL) ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
      [orderId, JSON.stringify(lines)],
    );
    if (claimed.rowCount === 0) {
      const { rows } = await client.query<{ status: string; result: Result }>(
        'SELECT status, items, result FROM reservations WHERE order_id = $1 FOR UPDATE',
        [orderId],
      );
      return rows[0]!.status === 'RELEASED'
        ? { orderId, status: 'REJECTED', reason: 'ORDER_CLOSED', skus: [] }
        : rows[0]!.result;
    }
    const { rows: stock } = await client.query<{ sku: string; available: number }>(
      'SELECT sku, available FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE',
      [lines.map((l) => l.sku)],
    );
    const available = new Map(stock.map((s) => [s.sku, s.available]));
    const decision = decide(lines, available);
    const result: Result =
      decision.status === 'REJECTED'
        ? { orderId, ...decision }
        : { orderId, status: 'RESERVED', items: lines };
    if (decision.status === 'RESERVED') {
      for (const { sku, quantity } of lines) {
        await client.query(
          'UPDATE stock SET available = available - $2, updated_at = now() WHERE sku = $1',
          [sku, quantity],
        );
      }
    }
    await client.query(
      'UPDATE reservations SET status = $2, result = $3, updated_at = now() WHERE order_id = $1',
      [orderId, result.status, JSON.stringify(result)],
    );
    if (decision.status === 'RESERVED') {
      const occurredAt = new Date().toISOString();
      await addOutbox(
        client,
        InventoryReserved.name,
        InventoryReserved.version,
        { orderId, items: lines, occurredAt },
        correlationId,
      );
      for (const line of lines) {
        const before = available.get(line.sku)!;
        if (crossesThreshold(before, line.quantity, threshold)) {
          const event = { sku: line.sku, available: before - line.quantity, threshold, occurredAt };
          await addOutbox(
            client,
            InventoryStockLow.name,
            InventoryStockLow.version,
            event,
            correlationId,
          );
        }
      }
    }
    return result;
  });
}

const replyType = `${InventoryReserve.name}.reply`;
const replyHeaders = { [VERSION_HEADER]: InventoryReserve.version };

async function handle(msg: ConsumeMessage): Promise<void> {
  let reply: unknown;
  try {
    const request = JSON.parse(msg.content.toString('utf8')) as {
      orderId: string;
      items: { sku: string; quantity: number }[];
    };
    const requestId = msg.properties.headers?.['x-request-id'] as string | undefined;
    reply = { ok: true, data: await reserve(request.orderId, request.items, requestId) };
    relay.wake();
  } catch (error) {
    reply = { ok: false, error: { code: 'INTERNAL', message: (error as Error).message } };
  }
  // The lighter reply property set the contract allows (docs/messaging.md), plus user_id.
  channel.publish('', msg.properties.replyTo as string, Buffer.from(JSON.stringify(reply)), {
    contentType: 'application/json',
    correlationId: msg.properties.correlationId as string,
    type: replyType,
    userId: env.brokerUser,
    headers: replyHeaders,
  });
  channel.ack(msg);
}

await channel.consume(rpcQueue(SERVICE), (msg) => msg && void handle(msg), { noAck: false });
const server = await listen(env.port, (_req, res) => res.writeHead(404).end());

onShutdown(async () => {
  await new Promise((resolve) => server.close(resolve));
  relay.close();
  await broker.connection.close();
  await pool.end();
});
