import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import {
  allContracts,
  InventoryReleased,
  InventoryReserve,
  InventoryReserved,
  InventoryStockLow,
  inboundSchema,
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  OrderRejected,
  ReserveResult,
} from './index.js';

const ORDER_ID = '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70';
const AT = '2030-01-02T03:04:05.000Z';
const facts = {
  orderId: ORDER_ID,
  customerEmail: 'ada@example.com',
  items: [{ sku: 'MUG-1', quantity: 2 }],
  occurredAt: AT,
};

describe('the contract registry', () => {
  it('lists each version of a message once, and every version of a name as the same kind', () => {
    const keys = allContracts.map((c) => `${c.name}@${c.version}`);
    const kinds = new Map(allContracts.map((c) => [c.name, c.kind]));

    expect(new Set(keys).size).toBe(keys.length);
    for (const c of allContracts) expect([c.name, c.kind]).toEqual([c.name, kinds.get(c.name)]);
  });

  it.each(allContracts.map((c) => [`${c.name} v${c.version}`, c] as const))(
    '%s has an example its own schemas accept',
    (_name, contract) => {
      expect(contract.example).toBeDefined();
      if (contract.kind === 'event') {
        expect(contract.payload.safeParse(contract.example).success).toBe(true);
      } else {
        expect(contract.request.safeParse(contract.example?.request).error).toBeUndefined();
        expect(contract.response.safeParse(contract.example?.response).error).toBeUndefined();
      }
    },
  );

  it.each(allContracts.map((c) => [c.name, c] as const))(
    '%s has a positive integer version and a description',
    (_name, contract) => {
      expect(Number.isInteger(contract.version)).toBe(true);
      expect(contract.version).toBeGreaterThan(0);
      expect(contract.description.trim().length).toBeGreaterThan(0);
    },
  );

  it.each(allContracts.map((c) => c.name))(
    '%s is named <service>.<verb> or <aggregate>.<event>, both in kebab-case',
    (name) => {
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$/);
    },
  );

  it('freezes every contract, so no module can change a name or version at run time', () => {
    for (const contract of allContracts) expect(Object.isFrozen(contract)).toBe(true);
  });

  it('lists every exported contract', () => {
    expect(allContracts).toEqual(
      expect.arrayContaining([
        InventoryReserve,
        OrderCreated,
        OrderConfirmed,
        OrderRejected,
        OrderCancelled,
        InventoryReserved,
        InventoryReleased,
        InventoryStockLow,
      ]),
    );
  });

  it.each(allContracts.map((c) => [c.name, c] as const))(
    '%s names its owner, and an event the owner its name starts with',
    (name, contract) => {
      expect(contract.owner).toMatch(/^[a-z]+(-[a-z]+)*$/);
      if (contract.kind === 'event') expect(name.startsWith(`${contract.owner}.`)).toBe(true);
      else {
        expect(name.startsWith(`${contract.owner}.`)).toBe(true);
        expect(contract.callers.length).toBeGreaterThan(0);
      }
    },
  );

  it.each(allContracts.map((c) => [`${c.name} v${c.version}`, c] as const))(
    '%s bounds every string and array, so no message can grow without limit',
    (_name, contract) => {
      const schemas =
        contract.kind === 'rpc' ? [contract.request, contract.response] : [contract.payload];
      for (const schema of schemas) expect(unbounded(z.toJSONSchema(schema))).toEqual([]);
    },
  );

  it('validates an RPC request against its request schema and an event against its payload', () => {
    expect(inboundSchema(InventoryReserve)).toBe(InventoryReserve.request);
    expect(inboundSchema(OrderCreated)).toBe(OrderCreated.payload);
  });
});

describe('InventoryReserve request', () => {
  const request = InventoryReserve.request;

  it('accepts an order id and its lines', () => {
    const value = { orderId: ORDER_ID, items: [{ sku: 'MUG-1', quantity: 3 }] };

    expect(request.parse(value)).toEqual(value);
  });

  it('rejects an empty items list', () => {
    expect(request.safeParse({ orderId: ORDER_ID, items: [] }).success).toBe(false);
  });

  it.each([1.5, 0, -1, 10_001])('rejects a quantity of %s', (quantity) => {
    const result = request.safeParse({ orderId: ORDER_ID, items: [{ sku: 'MUG-1', quantity }] });

    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['items', 0, 'quantity']);
  });

  it('rejects a quantity sent as a string', () => {
    const result = request.safeParse({
      orderId: ORDER_ID,
      items: [{ sku: 'MUG-1', quantity: '2' }],
    });

    expect(result.success).toBe(false);
  });

  it.each(['mug-1', 'M', 'MUG 1', '-MUG'])('rejects the malformed SKU %j', (sku) => {
    expect(request.safeParse({ orderId: ORDER_ID, items: [{ sku, quantity: 1 }] }).success).toBe(
      false,
    );
  });

  it('rejects an order id that is not a uuid', () => {
    expect(
      request.safeParse({ orderId: 'order-1', items: [{ sku: 'MUG-1', quantity: 1 }] }).success,
    ).toBe(false);
  });

  it('accepts unknown extra fields and strips them, so producers can add optional fields', () => {
    const parsed = request.parse({
      orderId: ORDER_ID,
      items: [{ sku: 'MUG-1', quantity: 1, giftWrap: true }],
      channel: 'web',
    });

    expect(parsed).toEqual({ orderId: ORDER_ID, items: [{ sku: 'MUG-1', quantity: 1 }] });
  });
});

describe('InventoryReserve response', () => {
  it('accepts a rejection with its reason and SKUs', () => {
    const value = { status: 'REJECTED', orderId: ORDER_ID, reason: 'ORDER_CLOSED', skus: [] };

    expect(ReserveResult.parse(value)).toEqual(value);
  });

  it('rejects a status it does not know', () => {
    expect(ReserveResult.safeParse({ status: 'MAYBE', orderId: ORDER_ID }).success).toBe(false);
  });
});

describe('event payloads', () => {
  const customerEvents = [OrderCreated, OrderConfirmed, OrderCancelled];

  it.each(customerEvents.map((c) => [c.name, c] as const))(
    '%s accepts the facts of an order',
    (_name, contract) => {
      expect(contract.payload.parse(facts)).toEqual(facts);
    },
  );

  it.each(customerEvents.map((c) => [c.name, c] as const))(
    '%s rejects an invalid customer e-mail',
    (_name, contract) => {
      expect(contract.payload.safeParse({ ...facts, customerEmail: 'ada@' }).success).toBe(false);
    },
  );

  it.each(customerEvents.map((c) => [c.name, c] as const))(
    '%s rejects an order id that is not a uuid',
    (_name, contract) => {
      expect(contract.payload.safeParse({ ...facts, orderId: '42' }).success).toBe(false);
    },
  );

  it('rejects an occurredAt that is not an ISO instant', () => {
    expect(OrderCreated.payload.safeParse({ ...facts, occurredAt: 'yesterday' }).success).toBe(
      false,
    );
  });

  it('order.rejected requires a known reason', () => {
    const payload = { ...facts, skus: ['MUG-1'] };

    expect(OrderRejected.payload.safeParse({ ...payload, reason: 'OUT_OF_STOCK' }).success).toBe(
      true,
    );
    expect(OrderRejected.payload.safeParse({ ...payload, reason: 'TOO_EXPENSIVE' }).success).toBe(
      false,
    );
    expect(
      OrderRejected.payload.safeParse({ ...payload, reason: 'OUT_OF_STOCK', customerEmail: 'x' })
        .success,
    ).toBe(false);
  });

  it('inventory.reserved and inventory.released reject an invalid order id', () => {
    const items = facts.items;

    expect(
      InventoryReserved.payload.safeParse({ orderId: 'nope', items, occurredAt: AT }).success,
    ).toBe(false);
    expect(
      InventoryReleased.payload.safeParse({
        orderId: 'nope',
        items,
        reason: 'ORDER_CANCELLED',
        occurredAt: AT,
      }).success,
    ).toBe(false);
  });

  it('inventory.stock-low rejects negative stock', () => {
    const payload = { sku: 'MUG-1', available: 0, threshold: 5, occurredAt: AT };

    expect(InventoryStockLow.payload.safeParse(payload).success).toBe(true);
    expect(InventoryStockLow.payload.safeParse({ ...payload, available: -1 }).success).toBe(false);
  });
});

type JsonSchema = Record<string, unknown>;

/** Paths of the strings without maxLength (enums and uuids are bounded) and arrays without maxItems. */
function unbounded(schema: JsonSchema, path = '$'): string[] {
  const found: string[] = [];
  if (schema.type === 'string' && schema.maxLength === undefined) {
    if (schema.enum === undefined && schema.const === undefined && schema.format !== 'uuid')
      found.push(path);
  }
  if (schema.type === 'array' && schema.maxItems === undefined) found.push(path);
  for (const [key, child] of Object.entries(schema)) {
    if (key === 'properties')
      for (const [name, property] of Object.entries(child as Record<string, JsonSchema>))
        found.push(...unbounded(property, `${path}.${name}`));
    else if (key === 'items') found.push(...unbounded(child as JsonSchema, `${path}[]`));
    else if (key === 'anyOf' || key === 'oneOf' || key === 'allOf')
      (child as JsonSchema[]).forEach((option) => found.push(...unbounded(option, path)));
  }
  return found;
}
