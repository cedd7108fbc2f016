import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { usePrivateBroker, withFaultSystem } from './support/fault-system.js';
import { type ServiceName, SERVICES } from './support/processes.js';

const SKU = 'LOGS-01';

interface LogLine {
  service?: string;
  correlationId?: string;
  messageId?: string;
  messageType?: string;
  msg?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
}

describe('structured logs', () => {
  const broker = usePrivateBroker();

  it(
    'prints one order’s request id in the JSON logs of all three services',
    () =>
      withFaultSystem(broker(), 'logs', { env: { LOG_LEVEL: 'log' } }, async (system) => {
        const requestId = `logs-${randomUUID()}`;
        const lines = (name: ServiceName): LogLine[] =>
          system
            .service(name)
            .logs()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as LogLine);
        const ofRequest = (name: ServiceName) =>
          lines(name).filter((l) => l.correlationId === requestId);
        await system.setStock(SKU, 10);

        const res = await http(
          'POST',
          system.url('order', '/orders'),
          { customerEmail: 'ada@example.com', items: [{ sku: SKU, quantity: 1 }] },
          { 'x-request-id': requestId },
        );
        expect(res.status).toBe(201);
        const orderId = (res.body as { id: string }).id;
        await waitFor('the confirmation e-mail to be logged', () =>
          ofRequest('notification').some((l) => l.msg?.includes('e-mail')),
        );

        for (const name of SERVICES) {
          expect(lines(name).every((l) => l.service === name)).toBe(true);
        }
        expect(ofRequest('order')).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ msg: `Order ${orderId} confirmed` }),
            expect.objectContaining({
              req: { method: 'POST', url: '/orders' },
              res: { statusCode: 201 },
              responseTime: expect.any(Number),
            }),
          ]),
        );
        expect(ofRequest('inventory')).toContainEqual(
          expect.objectContaining({
            msg: `Reserved stock for order ${orderId}`,
            messageType: 'inventory.reserve',
            messageId: expect.any(String),
          }),
        );
        expect(ofRequest('notification')).toContainEqual(
          expect.objectContaining({
            msg: `Sent order.confirmed e-mail for order ${orderId}`,
            messageType: 'order.confirmed',
            messageId: expect.any(String),
          }),
        );
        // Probes poll readiness all the time: their requests are not logged.
        expect(lines('order').filter((l) => l.req?.url?.startsWith('/health'))).toEqual([]);
      }),
    120_000,
  );
});
