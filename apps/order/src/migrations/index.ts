import type { Migration } from 'kysely/migration';
import * as initial from './001-initial.js';
import * as outboxHeaders from './002-outbox-headers.js';
import * as orderOwner from './003-order-owner.js';

/** Applied in name order; never edit one that has shipped, add the next. */
export const orderMigrations: Record<string, Migration> = {
  '001-initial': initial,
  '002-outbox-headers': outboxHeaders,
  '003-order-owner': orderOwner,
};
