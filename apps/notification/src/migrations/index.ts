import type { Migrations } from '@app/database';
import * as initial from './001-initial.js';

/** Applied in name order; never edit one that has shipped, add the next. */
export const notificationMigrations: Migrations = {
  '001-initial': initial,
};
