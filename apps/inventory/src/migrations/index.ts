import type { Migrations } from '@app/database';
import { outboxHeadersMigration } from '@app/outbox';
import * as initial from './001-initial.js';

/** Applied in name order; never edit one that has shipped, add the next. */
export const inventoryMigrations: Migrations = {
  '001-initial': initial,
  '002-outbox-headers': outboxHeadersMigration,
};
