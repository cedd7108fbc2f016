import { describe, expect, it } from '@jest/globals';
import { eventsQueue, rpcQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { acksPerConsumer, type AcksPerConsumer } from './support/consumer-stats.js';
import { usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { assertNothingLostNothingTwice } from './support/invariants.js';
import type { ServiceName } from './support/processes.js';

const SKU = 'FAULT-REPLICAS';
const STOCK = 10_000;
const REPLICAS = 3;
const CANCELLATIONS = 24;
/** Each queue and the service whose replicas compete for it. */
const SHARED: readonly [string, ServiceName][] = [
  [rpcQueue('inventory'), 'inventory'],
  [eventsQueue('inventory'), 'inventory'],
  [eventsQueue('notification'), 'notification'],
];

describe('competing consumers: replicas of inventory and notification share their queues', () => {
  const broker = usePrivateBroker();

  it(
    'spreads the work over every replica, handles each message once in effect, and survives scaling down',
    () =>
      withFaultSystem(broker(), 'replicas', {}, async (system) => {
        for (const name of ['inventory', 'notification'] as const) {
          for (let i = 1; i < REPLICAS; i++) await system.addReplica(name);
        }
        const pids = (name: ServiceName) => system.instances(name).map((s) => `${name}@${s.pid}`);
        await system.setStock(SKU, STOCK);
        const load = system.startLoad([SKU], { concurrency: 4, paceMs: 150, max: 400 });
        await load.waitForConfirmed(CANCELLATIONS + 6);

        // order.cancelled is the one event inventory consumes in the normal flow.
        const toCancel = load.accepted.filter((o) => o.status === 'CONFIRMED');
        for (const order of toCancel.slice(0, CANCELLATIONS)) {
          const res = await http('POST', system.url('order', `/orders/${order.id}/cancel`));
          expect(res.status).toBe(200);
        }

        // Every replica acked messages from every queue its service consumes.
        let acks: AcksPerConsumer = {};
        await waitFor(
          'every replica to have handled messages of each shared queue',
          async () => {
            acks = await acksPerConsumer(broker().managementUrl, system.vhost);
            // Witness: the broker counts REPLICAS consumers acking on each shared queue.
            return SHARED.every(
              ([queue, service]) =>
                Object.keys(acks[queue] ?? {}).length === REPLICAS &&
                pids(service).every((pid) => (acks[queue]?.[pid] ?? 0) > 0),
            );
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        ).catch((error: Error) => {
          throw new Error(`${error.message}; acks: ${JSON.stringify(acks)}`, { cause: error });
        });
        for (const [queue, service] of SHARED) {
          expect(Object.keys(acks[queue] ?? {}).sort()).toEqual(pids(service).sort());
          process.stderr.write(
            `  [replicas] ${queue} acks per replica: ${perReplica(acks, queue)}\n`,
          );
        }

        // Scaling down under load: a replica drains what it holds and exits, the others go on.
        for (const name of ['inventory', 'notification'] as const) {
          expect(await system.instances(name).at(-1)!.stop()).toBe(0);
        }
        await load.waitForConfirmed(10);
        await load.stop();
        const outcome = await assertNothingLostNothingTwice(system, load, {
          stock: { [SKU]: STOCK },
          cancelled: toCancel.slice(0, CANCELLATIONS).map((o) => o.id),
        });
        expect(outcome.cancelled).toBe(CANCELLATIONS);
      }),
    120_000,
  );
});

function perReplica(acks: AcksPerConsumer, queue: string): string {
  return Object.values(acks[queue] ?? {})
    .sort((a, b) => b - a)
    .join(' / ');
}
