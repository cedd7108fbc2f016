/**
 * The floor's notification service: per `order.confirmed` / `order.rejected`, the inbox
 * claim, the SMTP send and the notification row in one transaction, acked after the commit,
 * as apps/notification does (same e-mail, same nodemailer pool).
 */
import type { ConsumeMessage } from 'amqplib';
import nodemailer from 'nodemailer';
import {
  InventoryStockLow,
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
  type PayloadOf,
} from '@app/contracts';
import {
  type Email,
  orderConfirmedEmail,
  orderRejectedEmail,
} from '../../apps/notification/src/notifications/email.js';
import { eventsQueue } from '../../libs/messaging/src/topology/names.js';
import {
  connectBroker,
  floorEnv,
  floorPool,
  listen,
  onShutdown,
  topology,
  transaction,
} from './common.js';

const SERVICE = 'notification';
const CONSUMER = 'notification.email';

const env = floorEnv();
const smtpUrl = process.env.SMTP_URL;
if (!smtpUrl) throw new Error('SMTP_URL is required');
const from = process.env.MAIL_FROM ?? 'orders@shop.example';
const poolSize = Number(process.env.SMTP_POOL_SIZE ?? 10);
const transport = nodemailer.createTransport({
  url: smtpUrl,
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 20_000,
  ...(poolSize > 0 ? { pool: true as const, maxConnections: poolSize } : {}),
});

const pool = floorPool(env, SERVICE);
const broker = await connectBroker(
  env,
  topology(SERVICE, false, [
    OrderConfirmed.name,
    OrderRejected.name,
    OrderCancelled.name,
    InventoryStockLow.name,
  ]),
);
const channel = await broker.connection.createChannel();
await channel.prefetch(Number(process.env.RABBITMQ_PREFETCH ?? 32));

function render(type: string, payload: unknown): Email | undefined {
  if (type === OrderConfirmed.name)
    return orderConfirmedEmail(payload as PayloadOf<typeof OrderConfirmed>);
  if (type === OrderRejected.name)
    return orderRejectedEmail(payload as PayloadOf<typeof OrderRejected>);
  return undefined; // the bench's orders raise no other event this service handles
}

async function handle(msg: ConsumeMessage): Promise<void> {
  const eventId = msg.properties.messageId as string;
  const type = msg.properties.type as string;
  try {
    const email = render(type, JSON.parse(msg.content.toString('utf8')));
    if (!email) throw new Error(`the floor does not handle ${type}`);
    await transaction(pool, async (client) => {
      const claimed = await client.query(
        'INSERT INTO inbox_messages (consumer, message_id) VALUES ($1, $2) ON CONFLICT (consumer, message_id) DO NOTHING RETURNING message_id',
        [CONSUMER, eventId],
      );
      if (claimed.rowCount === 0) return;
      await transport.sendMail({
        from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        messageId: `<${eventId}@notification.shop.example>`,
      });
      await client.query(
        'INSERT INTO notifications (event_id, event_type, order_id, recipient, subject, body) VALUES ($1, $2, $3, $4, $5, $6)',
        [eventId, type, email.orderId, email.to, email.subject, email.text],
      );
    });
    channel.ack(msg);
  } catch (error) {
    // Dead-lettered to notification.dlq: the bench then misses an e-mail and fails loudly.
    console.error(`${type} ${eventId} failed: ${(error as Error).message}`);
    channel.nack(msg, false, false);
  }
}

await channel.consume(eventsQueue(SERVICE), (msg) => msg && void handle(msg), { noAck: false });
const server = await listen(env.port, (_req, res) => res.writeHead(404).end());

onShutdown(async () => {
  await new Promise((resolve) => server.close(resolve));
  await broker.connection.close();
  transport.close();
  await pool.end();
});
