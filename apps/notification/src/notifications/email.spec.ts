import {
  InventoryStockLow,
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
  type PayloadOf,
} from '@app/contracts';
import { describe, expect, it } from '@jest/globals';
import {
  orderCancelledEmail,
  orderConfirmedEmail,
  orderRejectedEmail,
  stockLowEmail,
} from './email.js';

const ORDER_ID = '6f1c2b3a-1d2e-4f50-8a9b-0c1d2e3f4a5b';
const CUSTOMER = 'ada@example.com';
const OPS = 'ops@shop.example';

// Fixtures go through the contracts, so the templates are tested with payloads that can occur.
const facts = {
  orderId: ORDER_ID,
  customerEmail: CUSTOMER,
  items: [
    { sku: 'MUG-1', quantity: 2 },
    { sku: 'CAP-9', quantity: 1 },
  ],
  occurredAt: '2030-01-02T03:04:05.000Z',
};

const rejected = (
  overrides: Partial<PayloadOf<typeof OrderRejected>>,
): PayloadOf<typeof OrderRejected> =>
  OrderRejected.payload.parse({ ...facts, reason: 'OUT_OF_STOCK', skus: [], ...overrides });

describe('orderConfirmedEmail', () => {
  const email = orderConfirmedEmail(OrderConfirmed.payload.parse(facts));

  it('goes to the customer', () => {
    expect(email.to).toBe(CUSTOMER);
  });

  it('names the order in the subject and links the mail to it', () => {
    expect(email.subject).toContain(ORDER_ID);
    expect(email.subject).toMatch(/confirmed/i);
    expect(email.orderId).toBe(ORDER_ID);
  });

  it('lists every item with its quantity', () => {
    expect(email.text).toContain('2 × MUG-1');
    expect(email.text).toContain('1 × CAP-9');
  });
});

describe('orderRejectedEmail', () => {
  it('goes to the customer with the order id in the subject', () => {
    const email = orderRejectedEmail(rejected({}));

    expect(email.to).toBe(CUSTOMER);
    expect(email.subject).toContain(ORDER_ID);
    expect(email.orderId).toBe(ORDER_ID);
  });

  it('explains a shortage and names the SKUs that ran out', () => {
    const email = orderRejectedEmail(
      rejected({ reason: 'OUT_OF_STOCK', skus: ['MUG-1', 'CAP-9'] }),
    );

    expect(email.text).toContain('out of stock');
    expect(email.text).toContain('MUG-1, CAP-9');
  });

  it('explains unknown items', () => {
    const email = orderRejectedEmail(rejected({ reason: 'INVALID_ITEMS', skus: ['NOPE-1'] }));

    expect(email.text).toContain('do not exist');
    expect(email.text).toContain('NOPE-1');
  });

  it('explains that stock could not be checked, without an empty SKU list', () => {
    const email = orderRejectedEmail(rejected({ reason: 'INVENTORY_UNAVAILABLE', skus: [] }));

    expect(email.text).toContain('could not check our stock');
    expect(email.text).not.toContain('()');
  });

  it('reassures the customer that nothing was charged', () => {
    expect(orderRejectedEmail(rejected({})).text).toContain('Nothing has been charged');
  });
});

describe('orderCancelledEmail', () => {
  const email = orderCancelledEmail(OrderCancelled.payload.parse(facts));

  it('goes to the customer with the order id in the subject', () => {
    expect(email.to).toBe(CUSTOMER);
    expect(email.subject).toContain(ORDER_ID);
    expect(email.subject).toMatch(/cancelled/i);
    expect(email.orderId).toBe(ORDER_ID);
  });

  it('lists the cancelled items', () => {
    expect(email.text).toContain('2 × MUG-1');
    expect(email.text).toContain('1 × CAP-9');
  });
});

describe('stockLowEmail', () => {
  const email = stockLowEmail(
    InventoryStockLow.payload.parse({
      sku: 'MUG-1',
      available: 3,
      threshold: 5,
      occurredAt: '2030-01-02T03:04:05.000Z',
    }),
    OPS,
  );

  it('goes to the ops address, not to a customer', () => {
    expect(email.to).toBe(OPS);
  });

  it('names the SKU and the units left in the subject', () => {
    expect(email.subject).toContain('MUG-1');
    expect(email.subject).toContain('3 left');
  });

  it('states the threshold in the text', () => {
    expect(email.text).toContain('3 unit(s)');
    expect(email.text).toContain('threshold of 5');
  });

  it('belongs to no order', () => {
    expect(email.orderId).toBeNull();
  });
});
