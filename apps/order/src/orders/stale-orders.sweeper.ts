import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { describeError } from '@app/messaging';
import type { OrderConfig } from '../order.config.js';
import { OrdersService } from './orders.service.js';

/** Every accepted order reaches a final state, even if the process that took it died. */
@Injectable()
export class StaleOrdersSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StaleOrdersSweeper.name);
  private readonly pendingTimeoutMs: number;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly orders: OrdersService,
    config: ConfigService<OrderConfig, true>,
  ) {
    this.pendingTimeoutMs = config.get('order', { infer: true }).pendingTimeoutMs;
  }

  onApplicationBootstrap(): void {
    const every = Math.max(1_000, Math.floor(this.pendingTimeoutMs / 4));
    this.timer = setInterval(() => void this.sweep(), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    try {
      const settled = await this.orders.rejectStalePending(this.pendingTimeoutMs);
      if (settled > 0)
        this.logger.warn(`Rejected ${settled} order(s) left PENDING (INVENTORY_UNAVAILABLE)`);
    } catch (error) {
      this.logger.error(`Stale order sweep failed: ${describeError(error)}`);
    }
  }
}
