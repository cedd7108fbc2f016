import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { DatabaseOptions } from './database.js';
import type { Migrations } from './migrate.js';

export interface DatabaseModuleOptions extends DatabaseOptions {
  migrations: Migrations;
  migrateOnStart: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: DATABASE_OPTIONS } =
  new ConfigurableModuleBuilder<DatabaseModuleOptions>().setClassMethodName('forRoot').build();
