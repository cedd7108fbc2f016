import { AsyncResource } from 'node:async_hooks';
import {
  type BeforeApplicationShutdown,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Database, type UnitOfWork } from '@app/database';
import type { OutboxPublisher, StoredEvent } from './outbox-publisher.js';
import {
  claimBatch,
  deletePublishedBefore,
  markPublished,
  type OutboxRow,
} from './outbox.statements.js';

export interface OutboxRelayOptions {
  /** Rows per relay transaction. */
  batchSize?: number;
  /**
   * Safety net for rows committed by other replicas or before a crash, skipped while the
   * relay is busy anyway: commits here wake it at once.
   */
  pollIntervalMs?: number;
  /** Published rows older than this are deleted. */
  retentionMs?: number;
}

/**
 * Publishes what the outbox stored: claims a batch with `FOR UPDATE SKIP LOCKED` (so any
 * number of replicas relay without publishing a row twice), publishes it pipelined, waits
 * for every confirm and marks the batch published in the same transaction. A crash before
 * that commit publishes the batch again (at least once; consumers dedupe by message id).
 */
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retentionMs: number;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;
  private wakeAgain = false;
  private stopped = true;
  private lastPassAt = 0;
  /**
   * The relay publishes in the context it was created in, never in that of the request
   * whose commit woke it: a row carries its own trace and correlation id.
   */
  private readonly scope = new AsyncResource('OutboxRelay');

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly database: Database,
    private readonly publisher: OutboxPublisher,
    options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.timers = [
      setInterval(() => this.poll(), this.pollIntervalMs),
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
    await this.relay().catch((error: unknown) =>
      this.logger.warn(`Final outbox flush failed: ${describe(error)}`),
    );
  }

  /** Runs a pass now, or right after the running one: a commit may have added rows. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    this.running = this.scope
      .runInAsyncScope(() => this.relay())
      .catch((error: unknown) =>
        this.logger.error(`Outbox relay failed, retrying on next poll: ${describe(error)}`),
      )
      .finally(() => {
        this.running = undefined;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  private poll(): void {
    if (this.running || Date.now() - this.lastPassAt < this.pollIntervalMs) return;
    this.wake();
  }

  /** Publishes batches until none is left. */
  private async relay(): Promise<void> {
    this.lastPassAt = Date.now();
    while ((await this.publishBatch()) === this.batchSize) {
      // a full batch means there may be more
    }
  }

  private publishBatch(): Promise<number> {
    return this.unitOfWork.run(async (tx) => {
      const rows = await tx.query(claimBatch, [this.batchSize]);
      if (rows.length === 0) return 0;
      // Pipelined: all publishes go out at once and we wait for every confirm.
      await Promise.all(rows.map((row) => this.publisher.publish(toStoredEvent(row))));
      tx.write(markPublished, [rows.map((r) => r.id)]);
      return rows.length;
    });
  }

  private async deletePublished(): Promise<void> {
    try {
      await this.database.query(deletePublishedBefore, [new Date(Date.now() - this.retentionMs)]);
    } catch (error) {
      this.logger.warn(`Outbox cleanup failed: ${describe(error)}`);
    }
  }
}

function toStoredEvent(row: OutboxRow): StoredEvent {
  return {
    messageId: row.message_id,
    type: row.type,
    version: row.version,
    routingKey: row.routing_key,
    payload: row.payload,
    correlationId: row.correlation_id ?? undefined,
    headers: row.headers ?? undefined,
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
