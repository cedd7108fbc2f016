export { createPool, Database, type DatabaseOptions } from './database.js';
export { DatabaseModule } from './database.module.js';
export { type DatabaseModuleOptions } from './database.module-definition.js';
export { isUniqueViolation, TransactionRolledBackError } from './errors.js';
export { migrateToLatest, type Migrations } from './migrate.js';
export { statement, type Statement } from './statement.js';
export { Transaction } from './transaction.js';
export { UnitOfWork } from './unit-of-work.js';
