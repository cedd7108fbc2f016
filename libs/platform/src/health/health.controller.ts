import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { AmqpClient, AmqpConnection } from '@app/messaging';
import { Database } from '@app/database';
import { PublicRoute } from '../http/api-key.guard.js';

/** A confirm usually takes milliseconds; one waited for this long means the node is not working. */
const UNCONFIRMED_DOWN_MS = 2_000;

/**
 * Liveness: the process answers. Readiness: the broker and the database are reachable (503
 * otherwise, also while the broker leaves publishes unconfirmed for seconds, as a node cut off
 * from its cluster does); an open RPC circuit or a broker that blocks publishing (memory or
 * disk alarm) reports "degraded" (200): the service still answers, failing fast or holding
 * publishes until the alarm clears.
 */
// Probes (Docker, Kubernetes) call without a key; the answer holds no customer data.
@PublicRoute()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly broker: AmqpConnection,
    private readonly client: AmqpClient,
    private readonly database: Database,
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
        if (!this.broker.isConnected()) {
          // Why the last attempt failed (a refused port, a certificate), for whoever probes.
          const lastAttempt = this.broker.lastConnectFailure;
          return lastAttempt
            ? rabbit.down({ message: 'not connected', lastAttempt })
            : rabbit.down('not connected');
        }
        const blocked = this.broker.blocked;
        if (blocked) return rabbit.degraded({ blocked });
        // A node cut off from its cluster keeps the connection and takes publishes without
        // confirming them: connected, yet not working. (The client replaces such a connection
        // once the publish timeout passes.)
        const unconfirmedForMs = this.client.unconfirmedForMs;
        return unconfirmedForMs >= UNCONFIRMED_DOWN_MS
          ? rabbit.down({ message: 'publishes not confirmed', unconfirmedForMs })
          : rabbit.up();
      },
      () =>
        this.indicators
          .check('database')
          .attempt(() => this.database.ping())
          .withTimeout(2_000),
      () => {
        const circuits = this.client.circuits();
        const rpc = this.indicators.check('rpc');
        return Object.values(circuits).includes('open') ? rpc.degraded(circuits) : rpc.up(circuits);
      },
    ]);
  }
}
