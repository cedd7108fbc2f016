import type { Migration } from 'kysely/migration';
import * as initial from './001-initial.js';

/** Applied in name order; never edit one that has shipped, add the next. */
export const inventoryMigrations: Record<string, Migration> = {
  '001-initial': initial,
};
