/**
 * The floor's order service: `POST /orders` stores the order PENDING with `order.created`,
 * asks inventory to reserve over RPC (direct reply-to, `expiration`, `mandatory`), settles it
 * CONFIRMED or REJECTED with its event and answers 201, as apps/order does.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { InventoryReserve, OrderConfirmed, OrderCreated, OrderRejected } from '@app/contracts';
import { rpcQueue } from '../../libs/messaging/src/topology/names.js';
import {
  addOutbox,
  connectBroker,
  floorEnv,
  floorPool,
  json,
  listen,
  messageProperties,
  onShutdown,
  OutboxRelay,
  topology,
  transaction,
} from './common.js';

const REPLY_TO = 'amq.rabbitmq.reply-to';
const SERVICE = 'order';

interface Item {
  sku: string;
  quantity: number;
}
interface OrderRow {
  id: string;
  status: string;
  customer_email: string;
  items: Item[];
  rejection_reason: string | null;
  rejected_skus: string[] | null;
  created_at: Date;
  updated_at: Date;
}
type ReserveReply =
  | {
      ok: true;
      data: { status: 'RESERVED' } | { status: 'REJECTED'; reason: string; skus: string[] };
    }
  | { ok: false; error: { code: string; message: string } };

const env = floorEnv();
const rpcTimeoutMs = Number(process.env.RPC_TIMEOUT_MS ?? 5_000);
/** API_KEYS as ours reads it (`<client>:<role>:<key>`): the clients that may write. */
const apiKeys = (process.env.API_KEYS ?? '')
  .split(',')
  .filter(Boolean)
  .map((entry) => entry.trim().split(':'))
  .filter(([, role]) => role === 'write' || role === 'admin')
  .map(([client, , ...key]) => ({ client: client!, key: Buffer.from(key.join(':')) }));

const pool = floorPool(env, 'orders');
const broker = await connectBroker(env, topology(SERVICE, false, []));
const relay = new OutboxRelay(pool, broker.events, SERVICE, env.brokerUser);

// RPC: one channel without confirms (the reply is the confirmation), replies on direct reply-to.
const rpc = await broker.connection.createChannel();
const pending = new Map<string, { resolve: (r: ReserveReply) => void; timer: NodeJS.Timeout }>();
await rpc.consume(
  REPLY_TO,
  (msg: ConsumeMessage | null) => {
    if (!msg) return;
    const call = pending.get(msg.properties.correlationId as string);
    if (!call) return;
    pending.delete(msg.properties.correlationId as string);
    clearTimeout(call.timer);
    call.resolve(JSON.parse(msg.content.toString('utf8')) as ReserveReply);
  },
  { noAck: true },
);
// A mandatory request that no queue takes comes back: fail it at once.
rpc.on('return', (msg: ConsumeMessage) => settleCall(msg.properties.correlationId as string));

function settleCall(correlationId: string): void {
  const call = pending.get(correlationId);
  if (!call) return;
  pending.delete(correlationId);
  clearTimeout(call.timer);
  call.resolve({ ok: false, error: { code: 'UNAVAILABLE', message: 'no reply' } });
}

function reserve(orderId: string, items: Item[], requestId: string): Promise<ReserveReply> {
  const correlationId = randomUUID();
  return new Promise((resolve) => {
    const timer = setTimeout(() => settleCall(correlationId), rpcTimeoutMs);
    pending.set(correlationId, { resolve, timer });
    const properties = messageProperties(
      SERVICE,
      env.brokerUser,
      InventoryReserve.name,
      InventoryReserve.version,
      randomUUID(),
      correlationId,
      { 'x-request-id': requestId },
    );
    properties.replyTo = REPLY_TO;
    properties.expiration = String(rpcTimeoutMs);
    properties.mandatory = true;
    rpc.publish(
      '',
      rpcQueue('inventory'),
      Buffer.from(JSON.stringify({ orderId, items })),
      properties,
    );
  });
}

/** The client a write key belongs to: every candidate compared, in constant time. */
function clientOf(given: string | string[] | undefined): string | undefined {
  if (typeof given !== 'string') return undefined;
  const key = Buffer.from(given);
  let client: string | undefined;
  for (const k of apiKeys)
    if (k.key.length === key.length && timingSafeEqual(k.key, key)) client = k.client;
  return client;
}

/** The body rules of ours (CreateOrderBody), checked by hand. */
function parseBody(text: string): { customerEmail: string; items: Item[] } | undefined {
  let body: { customerEmail?: unknown; items?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return undefined;
  }
  const { customerEmail, items } = body;
  if (typeof customerEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(customerEmail)) return;
  if (!Array.isArray(items) || items.length === 0 || items.length > 100) return;
  for (const item of items as Item[]) {
    if (typeof item?.sku !== 'string' || item.sku.length === 0) return;
    if (!Number.isInteger(item.quantity) || item.quantity < 1) return;
  }
  return {
    customerEmail,
    items: (items as Item[]).map(({ sku, quantity }) => ({ sku, quantity })),
  };
}

function view(row: OrderRow) {
  return {
    id: row.id,
    status: row.status,
    customerEmail: row.customer_email,
    items: row.items,
    ...(row.rejection_reason && {
      rejection: { reason: row.rejection_reason, skus: row.rejected_skus ?? [] },
    }),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function facts(row: OrderRow) {
  return {
    orderId: row.id,
    customerEmail: row.customer_email,
    items: row.items,
    occurredAt: new Date().toISOString(),
  };
}

async function place(
  input: { customerEmail: string; items: Item[] },
  clientId: string,
  requestId: string,
) {
  const requestHash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  const created = await transaction(pool, async (client) => {
    const { rows } = await client.query<OrderRow>(
      "INSERT INTO orders (id, status, customer_email, items, client_id, idempotency_key, request_hash) VALUES ($1, 'PENDING', $2, $3, $4, NULL, $5) RETURNING *",
      [randomUUID(), input.customerEmail, JSON.stringify(input.items), clientId, requestHash],
    );
    await addOutbox(client, OrderCreated.name, OrderCreated.version, facts(rows[0]!), requestId);
    return rows[0]!;
  });
  relay.wake();
  const reply = await reserve(created.id, created.items, requestId);
  const outcome =
    reply.ok && reply.data.status === 'RESERVED'
      ? { status: 'CONFIRMED', reason: null, skus: null }
      : {
          status: 'REJECTED',
          reason:
            reply.ok && reply.data.status === 'REJECTED'
              ? reply.data.reason
              : 'INVENTORY_UNAVAILABLE',
          skus: reply.ok && reply.data.status === 'REJECTED' ? reply.data.skus : [],
        };
  const settled = await transaction(pool, async (client) => {
    const { rows } = await client.query<OrderRow>(
      "UPDATE orders SET status = $2, rejection_reason = $3, rejected_skus = $4, updated_at = now() WHERE id = $1 AND status = 'PENDING' RETURNING *",
      [created.id, outcome.status, outcome.reason, outcome.skus && JSON.stringify(outcome.skus)],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (outcome.status === 'CONFIRMED') {
      await addOutbox(client, OrderConfirmed.name, OrderConfirmed.version, facts(row), requestId);
    } else {
      const event = { ...facts(row), reason: outcome.reason, skus: outcome.skus };
      await addOutbox(client, OrderRejected.name, OrderRejected.version, event, requestId);
    }
    return row;
  });
  relay.wake();
  return settled ?? created;
}

const server = await listen(env.port, (req, res, text) => {
  if (req.method !== 'POST' || req.url !== '/orders') return json(res, 404, { code: 'NOT_FOUND' });
  const clientId = clientOf(req.headers['x-api-key']);
  if (!clientId) return json(res, 401, { code: 'UNAUTHORIZED' });
  const input = parseBody(text);
  if (!input) return json(res, 400, { code: 'VALIDATION_FAILED' });
  const requestId = randomUUID();
  res.setHeader('x-request-id', requestId);
  place(input, clientId, requestId).then(
    (order) => {
      res.setHeader('location', `/orders/${order.id}`);
      json(res, 201, view(order));
    },
    (error: unknown) => {
      console.error(`POST /orders failed: ${(error as Error).message}`);
      json(res, 500, { code: 'INTERNAL' });
    },
  );
});

onShutdown(async () => {
  await new Promise((resolve) => server.close(resolve));
  relay.close();
  await broker.connection.close();
  await pool.end();
});
