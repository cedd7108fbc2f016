/** How one kebab-case service or message name is spelled in each place it appears. */
export const KEBAB = /^[a-z]+(-[a-z]+)*$/;

export const camel = (kebab: string) =>
  kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const pascal = (kebab: string) => camel(kebab).replace(/^[a-z]/, (c) => c.toUpperCase());
export const snake = (kebab: string) => kebab.replaceAll('-', '_');

/** `order.confirmed` → `OrderConfirmed`, `inventory.stock-low` → `InventoryStockLow`. */
export const contractConstant = (message: string) => pascal(message.replace('.', '-'));

/** The file of a contract, by kind: `payment-authorize.rpc.ts`, `payment-refunded.event.ts`. */
export const contractFile = (message: string, kind: 'rpc' | 'event') =>
  `${message.replace('.', '-')}.${kind}.ts`;

/**
 * Names a service cannot take: this repository's folders and Nest projects, the compose
 * services, broker names (`amq.` queues are reserved by RabbitMQ), libs/contracts files.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'apps',
  'libs',
  'test',
  'tools',
  'bench',
  'docs',
  'dist',
  'coverage',
  'contracts',
  'messaging',
  'platform',
  'services',
  'support',
  'template',
  'rabbitmq',
  'postgres',
  'mailpit',
  'events',
  'amq',
  'common',
  'define',
  'registry',
  'versions',
  'index',
  'public',
  'information-schema',
]);

/** PostgreSQL's reserved key words (`pg_get_keywords()`, category R): not usable as a schema. */
export const SQL_RESERVED: ReadonlySet<string> = new Set(
  `all analyse analyze and any array as asc asymmetric both case cast check collate column
  constraint create current_catalog current_date current_role current_time current_timestamp
  current_user default deferrable desc distinct do else end except false fetch for foreign from
  grant group having in initially intersect into lateral leading limit localtime localtimestamp
  not null offset on only or order placing primary references returning select session_user
  some symmetric table then to trailing true union unique user using variadic when where window
  with`.split(/\s+/),
);

/** Member names the generated service uses itself; an RPC verb must not clash with them. */
export const RESERVED_METHODS: ReadonlySet<string> = new Set([
  'constructor',
  'recordEvent',
  'listRecords',
  'findRecord',
  'about',
  'unitOfWork',
  'records',
  'outbox',
]);

/** Problems with a service name, empty when it is fine (existence is checked elsewhere). */
export function nameProblems(name: string): string[] {
  if (!KEBAB.test(name)) {
    return [
      `"${name}" is not a service name: use kebab-case letters a-z, e.g. payment or gift-card`,
    ];
  }
  if (name.length > 30) return [`"${name}" is longer than 30 characters`];
  if (RESERVED_NAMES.has(name))
    return [`"${name}" is reserved in this repository; pick another name`];
  if (SQL_RESERVED.has(snake(name))) {
    return [`"${name}" is an SQL reserved word and cannot name the service's database schema`];
  }
  if (name.startsWith('pg-')) return [`"${name}": schemas starting with pg_ are PostgreSQL's own`];
  return [];
}
