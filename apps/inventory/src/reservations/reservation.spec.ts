import { describe, expect, it } from '@jest/globals';
import { aggregateLines, crossesThreshold, decide } from './reservation.js';

const stock = (entries: Record<string, number>): ReadonlyMap<string, number> =>
  new Map(Object.entries(entries));

describe('aggregateLines', () => {
  it('sums the quantities of a SKU that appears on several lines', () => {
    const lines = aggregateLines([
      { sku: 'MUG-1', quantity: 2 },
      { sku: 'CAP-9', quantity: 1 },
      { sku: 'MUG-1', quantity: 3 },
    ]);

    expect(lines).toContainEqual({ sku: 'MUG-1', quantity: 5 });
    expect(lines).toHaveLength(2);
  });

  it('sorts lines by SKU so rows are always locked in the same order', () => {
    const lines = aggregateLines([
      { sku: 'ZIP-2', quantity: 1 },
      { sku: 'AXE-1', quantity: 1 },
      { sku: 'MUG-1', quantity: 1 },
      { sku: 'AXE-1', quantity: 4 },
    ]);

    expect(lines).toEqual([
      { sku: 'AXE-1', quantity: 5 },
      { sku: 'MUG-1', quantity: 1 },
      { sku: 'ZIP-2', quantity: 1 },
    ]);
  });

  it('returns no lines for no items', () => {
    expect(aggregateLines([])).toEqual([]);
  });

  it('leaves the caller’s items untouched', () => {
    const items = [
      { sku: 'B-1', quantity: 1 },
      { sku: 'A-1', quantity: 2 },
      { sku: 'B-1', quantity: 3 },
    ];
    const copy = structuredClone(items);

    aggregateLines(items);

    expect(items).toEqual(copy);
  });
});

describe('decide', () => {
  it('reserves the order when every line is in stock', () => {
    const decision = decide(
      [
        { sku: 'AXE-1', quantity: 2 },
        { sku: 'MUG-1', quantity: 1 },
      ],
      stock({ 'AXE-1': 10, 'MUG-1': 3 }),
    );

    expect(decision).toEqual({ status: 'RESERVED' });
  });

  it('reserves the order when the stock exactly covers a line', () => {
    expect(decide([{ sku: 'AXE-1', quantity: 4 }], stock({ 'AXE-1': 4 }))).toEqual({
      status: 'RESERVED',
    });
  });

  it('rejects the whole order as OUT_OF_STOCK when one line is short, naming only that SKU', () => {
    const decision = decide(
      [
        { sku: 'AXE-1', quantity: 1 },
        { sku: 'MUG-1', quantity: 4 },
      ],
      stock({ 'AXE-1': 10, 'MUG-1': 3 }),
    );

    expect(decision).toEqual({ status: 'REJECTED', reason: 'OUT_OF_STOCK', skus: ['MUG-1'] });
  });

  it('lists every short SKU when several lines are short', () => {
    const decision = decide(
      [
        { sku: 'AXE-1', quantity: 11 },
        { sku: 'CAP-1', quantity: 1 },
        { sku: 'MUG-1', quantity: 4 },
      ],
      stock({ 'AXE-1': 10, 'CAP-1': 1, 'MUG-1': 0 }),
    );

    expect(decision).toEqual({
      status: 'REJECTED',
      reason: 'OUT_OF_STOCK',
      skus: ['AXE-1', 'MUG-1'],
    });
  });

  it('rejects the order as INVALID_ITEMS listing only the unknown SKUs', () => {
    const decision = decide(
      [
        { sku: 'AXE-1', quantity: 1 },
        { sku: 'NOPE-1', quantity: 1 },
        { sku: 'NOPE-2', quantity: 1 },
      ],
      stock({ 'AXE-1': 10 }),
    );

    expect(decision).toEqual({
      status: 'REJECTED',
      reason: 'INVALID_ITEMS',
      skus: ['NOPE-1', 'NOPE-2'],
    });
  });

  it('reports unknown SKUs rather than shortages when an order has both', () => {
    const decision = decide(
      [
        { sku: 'AXE-1', quantity: 99 },
        { sku: 'NOPE-1', quantity: 1 },
      ],
      stock({ 'AXE-1': 1 }),
    );

    expect(decision).toEqual({ status: 'REJECTED', reason: 'INVALID_ITEMS', skus: ['NOPE-1'] });
  });

  it('treats a known SKU with zero units as out of stock, not unknown', () => {
    expect(decide([{ sku: 'AXE-1', quantity: 1 }], stock({ 'AXE-1': 0 }))).toEqual({
      status: 'REJECTED',
      reason: 'OUT_OF_STOCK',
      skus: ['AXE-1'],
    });
  });
});

describe('crossesThreshold', () => {
  it('is true when a reservation takes stock from above the threshold to below it', () => {
    expect(crossesThreshold(10, 8, 5)).toBe(true);
  });

  it('is true when a reservation lands exactly on the threshold', () => {
    expect(crossesThreshold(6, 1, 5)).toBe(true);
  });

  it('is true when a reservation takes the last units', () => {
    expect(crossesThreshold(6, 6, 5)).toBe(true);
  });

  it('is false while stock stays above the threshold', () => {
    expect(crossesThreshold(10, 4, 5)).toBe(false);
  });

  it('is false when stock was already at the threshold, so the alert fires once', () => {
    expect(crossesThreshold(5, 1, 5)).toBe(false);
  });

  it('is false when stock was already below the threshold', () => {
    expect(crossesThreshold(3, 1, 5)).toBe(false);
  });

  it('is false when nothing is taken', () => {
    expect(crossesThreshold(6, 0, 5)).toBe(false);
  });

  it('with a threshold of zero, fires only when stock runs out', () => {
    expect(crossesThreshold(3, 2, 0)).toBe(false);
    expect(crossesThreshold(3, 3, 0)).toBe(true);
  });
});
