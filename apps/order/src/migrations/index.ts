import type { Migrations } from '@app/database';
import { outboxHeadersMigration } from '@app/outbox';
import * as initial from './001-initial.js';
import * as orderOwner from './003-order-owner.js';

/** Applied in name order; never edit one that has shipped, add the next. */
export const orderMigrations: Migrations = {
  '001-initial': initial,
  '002-outbox-headers': outboxHeadersMigration,
  '003-order-owner': orderOwner,
};
