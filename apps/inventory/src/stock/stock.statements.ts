import { statement } from '@app/database';

export interface StockRow {
  sku: string;
  available: number;
  updated_at: Date;
}

/** Locked in SKU order, the order every transaction takes them in: no deadlocks. */
export const lockSkus = statement<Pick<StockRow, 'sku' | 'available'>, [skus: string[]]>(
  'stock.lock',
  `select sku, available from stock where sku = any($1::text[]) order by sku for update`,
);

/** Adds `deltas[i]` to `skus[i]`, in one statement (the rows are locked already). */
export const adjustAvailable = statement<never, [skus: string[], deltas: number[]]>(
  'stock.adjust',
  `update stock as s set available = s.available + d.delta, updated_at = now()
   from unnest($1::text[], $2::int[]) as d(sku, delta) where s.sku = d.sku`,
);

export const findSku = statement<StockRow, [sku: string]>(
  'stock.find',
  `select sku, available, updated_at from stock where sku = $1`,
);

/** The column's check refuses below 0. */
export const setAvailable = statement<StockRow, [sku: string, available: number]>(
  'stock.set',
  `insert into stock (sku, available) values ($1, $2)
   on conflict (sku) do update set available = excluded.available, updated_at = now()
   returning sku, available, updated_at`,
);

/** Only into an empty table: a restart never overwrites real stock. */
export const seedIfEmpty = statement<{ sku: string }, [levels: string]>(
  'stock.seed',
  `insert into stock (sku, available)
   select * from jsonb_to_recordset($1::jsonb) as s(sku text, available int)
   where not exists (select 1 from stock)
   on conflict do nothing
   returning sku`,
);
