import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Kysely } from 'kysely';
import { createDatabase, type DatabaseOptions, migrateToLatest } from './database.js';

/** Inject with `@Inject(DATABASE) db: Kysely<YourTables>`. */
export const DATABASE = Symbol('DATABASE');

@Injectable()
class DatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly db: Kysely<unknown>) {}

  async onApplicationShutdown(): Promise<void> {
    await this.db.destroy();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DATABASE,
          useFactory: async () => {
            const db = createDatabase(options);
            if (options.migrateOnStart)
              await migrateToLatest(db, options.schema, options.migrations);
            return db;
          },
        },
        DatabaseCloser,
      ],
      exports: [DATABASE],
    };
  }
}
