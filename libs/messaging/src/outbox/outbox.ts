import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { EventContract, PayloadOf } from '@app/contracts';
import { MessageContext } from '../context/message-context.js';
import { describeError } from '../errors.js';
import type { AmqpClient } from '../transport/amqp.client.js';

export interface OutboxOptions {
  /** Rows per relay transaction. */
  batchSize?: number;
  /** Safety net for rows committed by other replicas or before a crash; commits here wake the relay at once. */
  pollIntervalMs?: number;
  /** Published rows older than this are deleted. */
  retentionMs?: number;
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
 * Transactional outbox: `add()` stores an event in the caller's transaction, so it exists
 * if and only if the state change committed; the relay publishes stored events with
 * confirms and marks them sent. Rows are claimed with `FOR UPDATE SKIP LOCKED`, so any
 * number of replicas can relay without publishing a row twice.
 */
export class Outbox implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(Outbox.name);
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionMs: number;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = true;
  /**
   * The relay publishes in the context the outbox was created in, never in that of the
   * request whose commit woke it: a row carries its own trace and correlation id.
   */
  private readonly relayScope = new AsyncResource('OutboxRelay');

  constructor(
    private readonly db: Kysely<any>,
    private readonly client: AmqpClient,
    options: OutboxOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
  }

  /** Stores an event in the transaction `trx`; validated now so a bad event fails the change. */
  async add<C extends EventContract>(
    trx: Transaction<any>,
    contract: C,
    payload: PayloadOf<C>,
  ): Promise<void> {
    await trx
      .insertInto('outbox_messages')
      .values({
        message_id: randomUUID(),
        type: contract.name,
        version: contract.version,
        routing_key: contract.name,
        payload: JSON.stringify(contract.payload.parse(payload)),
        correlation_id: MessageContext.correlationId() ?? null,
        // Captured now, in the context of the change (e.g. its trace), not when relayed.
        headers: JSON.stringify(this.client.eventHeaders(contract.name) ?? null),
      })
      .execute();
  }

  /** Runs `work` in a transaction and wakes the relay once it has committed. */
  async transaction<T>(work: (trx: Transaction<any>) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute(work);
    this.wake();
    return result;
  }

  /** Rows not yet published and the age of the oldest, for metrics. */
  async stats(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const row = await this.db
      .selectFrom('outbox_messages')
      .select((eb) => [
        eb.fn.countAll<string>().as('pending'),
        sql<number | null>`extract(epoch from now() - min(created_at))`.as('age'),
      ])
      .where('published_at', 'is', null)
      .executeTakeFirstOrThrow();
    return { pending: Number(row.pending), oldestAgeSeconds: Math.max(0, Number(row.age ?? 0)) };
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timers = [
      setInterval(() => this.wake(), this.pollIntervalMs),
      setInterval(() => void this.deletePublished(), Math.min(this.retentionMs, 600_000)),
    ];
    for (const t of this.timers) t.unref();
    this.wake();
  }

  /** Publishes what is pending now, then stops; runs before the broker connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.running;
    await this.relay().catch((error) =>
      this.logger.warn(`Final outbox flush failed: ${describeError(error)}`),
    );
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    this.running = this.relayScope
      .runInAsyncScope(() => this.relay())
      .catch((error) =>
        this.logger.error(`Outbox relay failed, retrying on next poll: ${describeError(error)}`),
      )
      .finally(() => {
        this.running = undefined;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  /** Publishes batches until none is left. */
  private async relay(): Promise<void> {
    while ((await this.publishBatch()) === this.batchSize) {
      // a full batch means there may be more
    }
  }

  private publishBatch(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = (await trx
        .selectFrom('outbox_messages')
        .select([
          'id',
          'message_id',
          'type',
          'version',
          'routing_key',
          'payload',
          'correlation_id',
          'headers',
        ])
        .where('published_at', 'is', null)
        .orderBy('id')
        .limit(this.batchSize)
        .forUpdate()
        .skipLocked()
        .execute()) as OutboxRow[];
      if (rows.length === 0) return 0;
      // Pipelined: all publishes go out at once and we wait for every confirm.
      await Promise.all(
        rows.map((row) =>
          this.client.publishRaw(
            {
              type: row.type,
              version: row.version,
              messageId: row.message_id,
              routingKey: row.routing_key,
              correlationId: row.correlation_id ?? undefined,
              headers: row.headers ?? undefined,
            },
            row.payload,
          ),
        ),
      );
      await trx
        .updateTable('outbox_messages')
        .set({ published_at: new Date() })
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      return rows.length;
    });
  }

  private async deletePublished(): Promise<void> {
    try {
      await this.db
        .deleteFrom('outbox_messages')
        .where('published_at', '<', new Date(Date.now() - this.retentionMs))
        .execute();
    } catch (error) {
      this.logger.warn(`Outbox cleanup failed: ${describeError(error)}`);
    }
  }
}
