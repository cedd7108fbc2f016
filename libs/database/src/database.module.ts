import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createPool, Database } from './database.js';
import {
  ConfigurableModuleClass,
  DATABASE_OPTIONS,
  type DatabaseModuleOptions,
} from './database.module-definition.js';
import { migrateToLatest } from './migrate.js';
import { UnitOfWork } from './unit-of-work.js';

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/**
 * Provides `Database` (reads, single statements) and `UnitOfWork` (transactions), after
 * migrating to the latest schema if asked. `forRoot(options)` or `forRootAsync({ inject,
 * useFactory })`, as Nest's configurable modules do.
 */
@Global()
@Module({
  providers: [
    {
      provide: Database,
      useFactory: async (options: DatabaseModuleOptions) => {
        if (options.migrateOnStart) await migrateToLatest(options, options.migrations);
        return new Database(createPool(options));
      },
      inject: [DATABASE_OPTIONS],
    },
    {
      provide: UnitOfWork,
      useFactory: (db: Database) => new UnitOfWork(db),
      inject: [Database],
    },
    DatabaseCloser,
  ],
  exports: [Database, UnitOfWork],
})
export class DatabaseModule extends ConfigurableModuleClass {}
