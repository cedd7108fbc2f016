/**
 * What the three services of the floor share: the lean, framework-free version of the order
 * flow's durable work (node:http + pg + amqplib), written the fastest correct way. Each
 * service is its own process (bench/floor/<service>.ts), on the real services' schemas and
 * topology, so the bench compares the same work done two ways (docs/performance.md).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import amqp, { type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import pg from 'pg';
// Only the topology (names and declarations), so the floor's queues are the real ones.
import {
  declareServiceTopology,
  ensureExchange,
  type ServiceTopology,
} from '../../libs/messaging/src/topology/declare.js';
import { EVENTS_EXCHANGE } from '../../libs/messaging/src/topology/names.js';

export { EVENTS_EXCHANGE };
export const VERSION_HEADER = 'x-message-version';

/** The floor's settings, from the same variables the real services read. */
export interface FloorEnv {
  rabbitUrl: string;
  databaseUrl: string;
  port: number;
  /** The broker user: every publish carries it as `user_id`, which the broker validates. */
  brokerUser: string;
}

export function floorEnv(): FloorEnv {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const rabbitUrl = need('RABBITMQ_URL');
  return {
    rabbitUrl,
    databaseUrl: need('DATABASE_URL'),
    port: Number(need('HTTP_PORT')),
    brokerUser: decodeURIComponent(new URL(rabbitUrl).username) || 'guest',
  };
}

/** A pool of 10 on the service's schema, as the real services have. */
export function floorPool(env: FloorEnv, schema: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: env.databaseUrl,
    max: 10,
    options: `-c search_path=${schema}`,
  });
  pool.on('error', (error) => console.error(`idle database connection lost: ${error.message}`));
  return pool;
}

/** Runs `work` in one transaction on a pooled connection. */
export async function transaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export interface Broker {
  connection: ChannelModel;
  /** Confirm channel for events (the outbox relay). */
  events: ConfirmChannel;
}

/** Connects with Nagle off and declares the service's topology exactly as libs/messaging does. */
export async function connectBroker(env: FloorEnv, topology: ServiceTopology): Promise<Broker> {
  const connection = await amqp.connect(env.rabbitUrl, { noDelay: true });
  const events = await connection.createConfirmChannel();
  await ensureExchange(connection, EVENTS_EXCHANGE, 'topic');
  await declareServiceTopology(events, topology);
  return { connection, events };
}

/** The topology settings of the real services' defaults (classic queues, three retry tiers). */
export function topology(
  service: string,
  rpc: boolean,
  eventBindings: readonly string[],
): ServiceTopology {
  return {
    service,
    queueType: 'classic',
    rpc,
    eventBindings,
    retryDelaysMs: [1_000, 10_000, 60_000],
  };
}

/** The documented property set of every request and event (docs/messaging.md, "Properties"). */
export function messageProperties(
  appId: string,
  userId: string,
  type: string,
  version: number,
  messageId: string,
  correlationId: string | undefined,
  headers: Record<string, unknown> | null,
): Options.Publish {
  return {
    contentType: 'application/json',
    messageId,
    type,
    timestamp: Math.floor(Date.now() / 1000),
    correlationId,
    appId,
    userId,
    headers: headers ? { ...headers, [VERSION_HEADER]: version } : { [VERSION_HEADER]: version },
  };
}

/** Inserts one outbox row in the transaction of `client`. */
export function addOutbox(
  client: pg.PoolClient,
  type: string,
  version: number,
  payload: unknown,
  correlationId: string | undefined,
): Promise<unknown> {
  return client.query(
    'INSERT INTO outbox_messages (message_id, type, version, routing_key, payload, correlation_id, headers) VALUES ($1, $2, $3, $2, $4, $5, $6)',
    [randomUUID(), type, version, JSON.stringify(payload), correlationId ?? null, 'null'],
  );
}

interface OutboxRow {
  id: string;
  message_id: string;
  type: string;
  version: number;
  routing_key: string;
  payload: unknown;
  correlation_id: string | null;
  headers: Record<string, unknown> | null;
}

/**
 * The outbox relay: woken by every commit that added rows (and polled once a second as a
 * safety net, as ours is), claims up to 200 unpublished rows with FOR UPDATE SKIP LOCKED,
 * publishes them persistent with confirms, pipelined, and marks them published, all in one
 * transaction.
 */
export class OutboxRelay {
  private running = false;
  private again = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: ConfirmChannel,
    private readonly appId: string,
    private readonly userId: string,
  ) {
    this.timer = setInterval(() => this.wake(), 1_000);
    this.timer.unref();
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async drain(): Promise<void> {
    try {
      while ((await this.batch()) === 200) {
        // a full batch: there may be more
      }
    } catch (error) {
      console.error(`outbox relay failed, retrying on the next wake: ${(error as Error).message}`);
    }
  }

  private batch(): Promise<number> {
    return transaction(this.pool, async (client) => {
      const { rows } = await client.query<OutboxRow>(
        'SELECT id, message_id, type, version, routing_key, payload, correlation_id, headers FROM outbox_messages WHERE published_at IS NULL ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED',
      );
      if (rows.length === 0) return 0;
      await Promise.all(
        rows.map(
          (row) =>
            new Promise<void>((resolve, reject) => {
              const properties = messageProperties(
                this.appId,
                this.userId,
                row.type,
                row.version,
                row.message_id,
                row.correlation_id ?? undefined,
                row.headers,
              );
              properties.persistent = true;
              this.channel.publish(
                EVENTS_EXCHANGE,
                row.routing_key,
                Buffer.from(JSON.stringify(row.payload)),
                properties,
                (err) => (err ? reject(new Error('publish nacked')) : resolve()),
              );
            }),
        ),
      );
      await client.query('UPDATE outbox_messages SET published_at = now() WHERE id = ANY($1)', [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/**
 * An HTTP server on 127.0.0.1 that answers `GET /health/ready` (the bench waits for it) and
 * hands every other request, body read, to `handle`.
 */
export async function listen(port: number, handle: Handler): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

/** Closes everything on SIGTERM/SIGINT, as the real services shut down. */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
