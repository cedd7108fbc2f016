/**
 * `npm run migrate [service ...]` (apps/services.ts): applies every pending migration of
 * each service to its own schema, with the same environment the services read (.env).
 * The services also migrate on start unless DB_MIGRATE_ON_START=false.
 */
import { existsSync } from 'node:fs';
import { serviceEntry, serviceNames, type ServiceName } from '../apps/services.js';
import { migrateToLatest } from '@app/database';
import { ConfigValidationError, type ServiceConfig } from '@app/platform';

if (existsSync('.env')) process.loadEnvFile('.env');
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !serviceNames.includes(name as ServiceName));
if (unknown.length > 0) {
  console.error(
    `Unknown service(s): ${unknown.join(', ')}. Choose from: ${serviceNames.join(', ')}`,
  );
  process.exit(2);
}

for (const name of chosen.length > 0 ? (chosen as ServiceName[]) : serviceNames) {
  const service = serviceEntry(name);
  let config: ServiceConfig;
  try {
    config = service.definition.loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(`${name}: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const applied = await migrateToLatest(config.database, service.migrations);
  console.log(
    `${name}: schema "${config.database.schema}" ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'is up to date'}`,
  );
}
