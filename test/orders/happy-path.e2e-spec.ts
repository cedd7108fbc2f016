import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderConfirmed } from '@app/contracts';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

describe('placing an order', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('happy');
    await http('PUT', system.url('inventory', '/stock/WIDGET-1'), { available: 10 });
  });

  afterAll(() => system?.stop());

  it('confirms the order, takes the stock and e-mails the customer', async () => {
    const res = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'ada@example.com',
      items: [{ sku: 'WIDGET-1', quantity: 3 }],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'CONFIRMED', customerEmail: 'ada@example.com' });

    const stock = await http('GET', system.url('inventory', '/stock/WIDGET-1'));
    expect(stock.body.available).toBe(7);

    const event = await system.probe.next(OrderConfirmed, {
      where: (e) => e.orderId === res.body.id,
    });
    expect(event.body.items).toEqual([{ sku: 'WIDGET-1', quantity: 3 }]);

    const mail = await system.smtp.waitForMail('ada@example.com', `Order ${res.body.id} confirmed`);
    expect(mail.text).toContain('3 × WIDGET-1');
  });
});
