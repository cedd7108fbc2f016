import { waitFor } from '@app/messaging/testing';
import { MetricNames } from '@app/platform';
import { scrape } from '../../support/metrics.js';
import type { FaultSystem } from './fault-system.js';
import type { PrivateBroker } from './private-broker.js';
import type { ServiceName } from './processes.js';

/*
 * Witnesses: evidence that a fault took effect, read from the broker, the OS or the services
 * themselves, which each case asserts before it asserts recovery. A case whose fault
 * injection is replaced by a no-op must fail on its witness.
 */

/**
 * The broker connections of every service process (`<service>@<pid>`), taken before a fault;
 * `reconnected()` then waits until each of those processes holds only connections the
 * snapshot did not: the old ones were closed and the process opened new ones by itself.
 */
export class ConnectionWitness {
  private constructor(
    private readonly broker: PrivateBroker,
    private readonly vhost: string,
    private readonly before: ReadonlyMap<string, ReadonlySet<string>>,
  ) {}

  /** `only`: the processes of these services (default: every process). */
  static async take(
    broker: PrivateBroker,
    system: FaultSystem,
    only?: readonly ServiceName[],
  ): Promise<ConnectionWitness> {
    const connections = await broker.connections(system.vhost);
    const processes = system
      .processes()
      .filter((p) => !only || only.some((name) => p.startsWith(`${name}@`)));
    const before = new Map(
      processes.map((p) => {
        const ids = connections.filter((c) => c.client === p).map((c) => c.id);
        return [p, new Set(ids)] as const;
      }),
    );
    const without = [...before].filter(([, ids]) => ids.size === 0).map(([p]) => p);
    if (without.length > 0) {
      throw new Error(
        `no broker connection for ${without.join(', ')}: ${JSON.stringify(connections)}`,
      );
    }
    return new ConnectionWitness(broker, system.vhost, before);
  }

  /** Processes of the snapshot not holding exactly the connections they held then. */
  async changed(): Promise<string[]> {
    const now = await this.broker.connections(this.vhost);
    return [...this.before]
      .filter(([p, old]) => {
        const mine = now.filter((c) => c.client === p).map((c) => c.id);
        return mine.length !== old.size || mine.some((id) => !old.has(id));
      })
      .map(([p]) => p);
  }

  /**
   * Waits until every process of the snapshot has opened a new connection, whether or not the
   * broker still lists its old one (a connection frozen on the way lingers there until the
   * broker's heartbeat gives up on it).
   */
  async opened(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'every service process to open a new broker connection',
      async () => {
        const now = await this.broker.connections(this.vhost).catch(() => []);
        return [...this.before].every(([p, old]) =>
          now.some((c) => c.client === p && !old.has(c.id)),
        );
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Waits until every process of the snapshot is connected again, on new connections only. */
  async reconnected(timeoutMs = 30_000): Promise<void> {
    let stale: string[] = [...this.before.keys()];
    await waitFor(
      'every service process to be on a new broker connection',
      async () => {
        const now = await this.broker.connections(this.vhost).catch(() => []); // broker down
        stale = [...this.before]
          .filter(([p, old]) => {
            const mine = now.filter((c) => c.client === p);
            return mine.length === 0 || mine.some((c) => old.has(c.id));
          })
          .map(([p]) => p);
        return stale.length === 0;
      },
      { timeoutMs, intervalMs: 500 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; not on a new connection: ${stale.join(', ')}`, {
        cause: error,
      });
    });
  }
}

/**
 * Deliveries of `service` that ended with `outcome` (`shop_messages_handled_total`, summed
 * over its queues and types): the service's own count of what it did.
 */
export async function handled(
  system: FaultSystem,
  service: ServiceName,
  outcome: 'acked' | 'replied' | 'retried' | 'dead-lettered' | 'abandoned',
): Promise<number> {
  const metrics = await scrape(system.url(service, '/metrics'));
  return metrics.sum(MetricNames.messagesHandled, { outcome });
}
