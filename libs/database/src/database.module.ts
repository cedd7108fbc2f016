import {
  type DynamicModule,
  Global,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { createPool, Database, type DatabaseOptions } from './database.js';
import { migrateToLatest, type Migrations } from './migrate.js';
import { UnitOfWork } from './unit-of-work.js';

export interface DatabaseModuleOptions extends DatabaseOptions {
  migrations: Migrations;
  migrateOnStart: boolean;
}

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}

/** Provides `Database` (reads, single statements) and `UnitOfWork` (transactions). */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: Database,
          useFactory: async () => {
            if (options.migrateOnStart) await migrateToLatest(options, options.migrations);
            return new Database(createPool(options));
          },
        },
        {
          provide: UnitOfWork,
          useFactory: (db: Database) => new UnitOfWork(db),
          inject: [Database],
        },
        DatabaseCloser,
      ],
      exports: [Database, UnitOfWork],
    };
  }
}
