import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { AmqpConnection } from '@app/messaging';
import { type Kysely, sql } from 'kysely';
import { DATABASE } from '../database/database.module.js';

/** Liveness: the process answers. Readiness: the broker and the database are reachable. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly broker: AmqpConnection,
    @Inject(DATABASE) private readonly db: Kysely<unknown>,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => {
        const rabbit = this.indicators.check('rabbitmq');
        if (!this.broker.isConnected()) return rabbit.down('not connected');
        const blocked = this.broker.blocked;
        return blocked ? rabbit.degraded({ blocked }) : rabbit.up();
      },
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            await sql`select 1`.execute(this.db);
          })
          .withTimeout(2_000),
    ]);
  }
}
