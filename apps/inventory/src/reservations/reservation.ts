import type { OrderItem } from '@app/contracts';

/** The outcome of checking a request against stock; pure, so it is tested without a database. */
export type Decision =
  | { status: 'RESERVED' }
  | { status: 'REJECTED'; reason: 'OUT_OF_STOCK' | 'INVALID_ITEMS'; skus: string[] };

/** Sums repeated SKUs and sorts by SKU (rows are then locked in one order: no deadlocks). */
export function aggregateLines(items: readonly OrderItem[]): OrderItem[] {
  const totals = new Map<string, number>();
  for (const { sku, quantity } of items) totals.set(sku, (totals.get(sku) ?? 0) + quantity);
  return [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
}

/** All lines or none: unknown SKUs win over shortages, as they can never succeed. */
export function decide(
  lines: readonly OrderItem[],
  available: ReadonlyMap<string, number>,
): Decision {
  const unknown = lines.filter((l) => !available.has(l.sku)).map((l) => l.sku);
  if (unknown.length > 0) return { status: 'REJECTED', reason: 'INVALID_ITEMS', skus: unknown };
  const short = lines.filter((l) => available.get(l.sku)! < l.quantity).map((l) => l.sku);
  if (short.length > 0) return { status: 'REJECTED', reason: 'OUT_OF_STOCK', skus: short };
  return { status: 'RESERVED' };
}

/** True when taking `taken` units moves a SKU from above the threshold to at or below it. */
export function crossesThreshold(before: number, taken: number, threshold: number): boolean {
  return before > threshold && before - taken <= threshold;
}
