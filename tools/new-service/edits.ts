import { parse } from 'yaml';
import { devPassword, hashPassword } from './broker-user.js';
import type { ServiceSpec } from './spec.js';

/** An existing file does not look the way the generator expects: say which and how. */
export class EditError extends Error {}

function fail(file: string, what: string): never {
  throw new EditError(`${file}: ${what}; add the service there by hand, or restore the file`);
}

/** Inserts `block` after line `index` of `text` (0-based). */
function insertAfterLine(text: string, index: number, block: string): string {
  const lines = text.split('\n');
  lines.splice(index + 1, 0, block);
  return lines.join('\n');
}

/** End offset (after `}`) of the JSON object that starts at `start` (`{`). */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start, inString = false; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

export function addNestProject(text: string, s: ServiceSpec): string {
  const file = 'nest-cli.json';
  const projects = (JSON.parse(text) as { projects?: Record<string, { type?: string }> }).projects;
  const apps = Object.entries(projects ?? {}).filter(([, p]) => p.type === 'application');
  const last = apps.at(-1)?.[0];
  if (!last) fail(file, 'no application project to add one after');
  const start = text.indexOf('{', text.indexOf(`"${last}":`));
  const end = objectEnd(text, start);
  const entry = `,\n    "${s.name}": {\n      "type": "application",\n      "root": "apps/${s.name}",\n      "sourceRoot": "apps/${s.name}/src",\n      "entryFile": "apps/${s.name}/src/main",\n      "compilerOptions": { "tsConfigPath": "tsconfig.build.json" }\n    }`;
  const result = text.slice(0, end) + entry + text.slice(end);
  JSON.parse(result);
  return result;
}

export function addStartScript(text: string, s: ServiceSpec): string {
  const lines = text.split('\n');
  const starts = lines.flatMap((l, i) => (/^\s*"start:[a-z-]+": "nest start /.test(l) ? [i] : []));
  const at = starts.at(-1) ?? fail('package.json', 'no "start:<service>": "nest start …" script');
  const indent = /^\s*/.exec(lines[at]!)![0];
  const comma = lines[at]!.trimEnd().endsWith(',') ? ',' : '';
  if (!comma) lines[at] = `${lines[at]},`;
  const result = insertAfterLine(
    lines.join('\n'),
    at,
    `${indent}"start:${s.name}": "nest start ${s.name} --watch"${comma}`,
  );
  JSON.parse(result);
  return result;
}

/** `<host>:<port>/<vhost>` of the apps' broker URLs (the part every service shares). */
function brokerAddresses(text: string, file: string): string[] {
  const url = /^\s*RABBITMQ_URL: (amqp\S+)$/m.exec(text)?.[1];
  if (!url) fail(file, 'no app with a RABBITMQ_URL to copy the broker address from');
  return url.split(',').map((one) => one.replace(/^amqps?:\/\/[^@]*@/, ''));
}

/** The service's broker URL(s): its own user (see addBrokerUser) at the others' addresses. */
function brokerUrl(text: string, file: string, s: ServiceSpec): string {
  const scheme = /RABBITMQ_URL: (amqps?):/.exec(text)?.[1] ?? 'amqp';
  return brokerAddresses(text, file)
    .map((address) => `${scheme}://${s.name}:${devPassword(s.name)}@${address}`)
    .join(',');
}

/** A service under `services:`, like the others: shared app settings, its own build target. */
export function addComposeService(text: string, s: ServiceSpec): string {
  const file = 'docker-compose.yml';
  const lines = text.split('\n');
  const services = lines.indexOf('services:');
  if (services < 0) fail(file, 'no top-level services: key');
  let next = lines.findIndex((l, i) => i > services && /^[A-Za-z]/.test(l));
  if (next < 0) next = lines.length;
  while (next > services + 1 && /^\s*(#.*)?$/.test(lines[next - 1]!)) next--;
  if (!/^x-app:\s*&app\b/m.test(text) || !/^x-app-env:\s*&app-env\b/m.test(text)) {
    fail(file, 'no x-app / x-app-env anchors to build the service from');
  }
  const block = `
  ${s.name}:
    <<: *app
    build: { context: ., target: ${s.name} }
    ports: ['127.0.0.1:${s.port}:${s.port}']
    environment:
      <<: *app-env
      RABBITMQ_URL: ${brokerUrl(text, file, s)}`;
  const result = addBrokerUsersEntry(insertAfterLine(text, next - 1, block), s);
  const service = (
    parse(result, { merge: true }) as { services: Record<string, { build?: { target?: string } }> }
  ).services[s.name];
  if (service?.build?.target !== s.name) fail(file, 'the new service did not parse as expected');
  return result;
}

/** BROKER_USERS of x-app-env names the service's user (and its DLQ tool's), as consumers check. */
function addBrokerUsersEntry(text: string, s: ServiceSpec): string {
  const line = /^(\s*BROKER_USERS: )(\S+)$/m.exec(text);
  if (!line) fail('docker-compose.yml', 'no BROKER_USERS in x-app-env');
  const entries = [
    `${s.name}=${s.name}`,
    ...(hasDeadLetterQueue(s) ? [`${s.name}-dlq=${s.name}-dlq`] : []),
  ];
  return text.replace(line[0], `${line[1]}${line[2]},${entries.join(',')}`);
}

/** A service that consumes events has a DLQ (and a DLQ tool user); an RPC-only one too. */
function hasDeadLetterQueue(s: ServiceSpec): boolean {
  return s.rpcs.length > 0 || s.events.length > 0;
}

export function addDockerTarget(text: string, s: ServiceSpec): string {
  if (!/^FROM \S+ AS runtime$/m.test(text))
    fail('Dockerfile', 'no `runtime` stage to build the target on');
  return `${text.trimEnd()}

FROM runtime AS ${s.name}
ENV HTTP_PORT=${s.port}
EXPOSE ${s.port}
CMD ["node", "dist/apps/${s.name}/src/main.js"]
`;
}

export function addEnvSection(text: string, s: ServiceSpec): string {
  return `${text.trimEnd()}

# --- ${s.name} ---

# No variables of its own yet (its HTTP_PORT defaults to ${s.port}, its DATABASE_SCHEMA to ${s.schema}).
# Add each one it reads here, with a comment like the ones above.
`;
}

/** A row in README's service table (the table whose header starts with `| service`). */
export function addReadmeRow(text: string, s: ServiceSpec): string {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^\|\s*service\s*\|/.test(l));
  if (header < 0)
    fail('README.md', 'no service table (a table whose header starts with "| service |")');
  let last = header;
  while (lines[last + 1]?.startsWith('|')) last++;
  const talks = [
    ...s.rpcs.map((r) => `answers \`${r.name}\` (RPC)`),
    ...(s.events.length ? [`consumes ${s.events.map((e) => `\`${e.name}\``).join(', ')}`] : []),
  ];
  const row = `| \`${s.name}\` | ${s.db ? `records (schema \`${s.schema}\`)` : '-'} | \`:${s.port}\` | ${talks.join(', ') || '-'} |`;
  return insertAfterLine(text, last, row);
}

export function addContractsExport(text: string, s: ServiceSpec): string {
  const line = `export * from './${s.name}/index.js';`;
  if (text.includes(line)) return text;
  const lines = text.split('\n');
  const at = lines.findLastIndex((l) => /^export \* from '\.\/[a-z-]+\/index\.js';$/.test(l));
  if (at < 0) fail('libs/contracts/src/index.ts', "no export * from './<namespace>/index.js' line");
  return insertAfterLine(text, at, line);
}

export function addRegistryNamespace(text: string, s: ServiceSpec): string {
  const file = 'libs/contracts/src/registry.ts';
  const importLine = `import * as ${s.camel} from './${s.name}/index.js';`;
  if (text.includes(importLine)) return text;
  const lines = text.split('\n');
  const lastImport = lines.findLastIndex((l) => l.startsWith('import '));
  const close = lines.findIndex((l, i) => i > lastImport && l === '];');
  if (lastImport < 0 || close < 0 || !text.includes('contractsIn(')) {
    fail(file, 'no allContracts = [...contractsIn(namespace)] list');
  }
  lines.splice(close, 0, `  ...contractsIn(${s.camel}),`);
  lines.splice(lastImport + 1, 0, importLine);
  return lines.join('\n');
}

export function addRegisteredService(text: string, s: ServiceSpec): string {
  const file = 'apps/services.ts';
  const lines = text.split('\n');
  const lastImport = lines.findLastIndex((l) => /^import .* from '\.\/[a-z-]+\/src\//.test(l));
  const open = lines.findIndex((l) => l.startsWith('export const services = {'));
  const close = lines.findIndex((l, i) => i > open && l === '};');
  if (lastImport < 0 || open < 0 || close < 0)
    fail(file, 'no `export const services = { … };` list');
  lines.splice(
    close,
    0,
    `  ${/-/.test(s.name) ? `'${s.name}'` : s.name}: register({ definition: ${s.camel}Service, env: ${s.camel}Env, migrations: ${s.camel}Migrations, port: ${s.camel}Defaults.port }),`,
  );
  lines.splice(
    lastImport + 1,
    0,
    `import { ${s.camel}Service } from './${s.name}/src/${s.name}-app.module.js';`,
    `import { ${s.camel}Defaults, ${s.camel}Env } from './${s.name}/src/${s.name}.config.js';`,
    `import { ${s.camel}Migrations } from './${s.name}/src/migrations/index.js';`,
  );
  return lines.join('\n');
}

/** A scrape job in ops/prometheus/prometheus.yml (the compose observability profile). */
export function addScrapeJob(text: string, s: ServiceSpec): string {
  const file = 'ops/prometheus/prometheus.yml';
  if (!/^scrape_configs:/m.test(text)) fail(file, 'no scrape_configs');
  const result = `${text.trimEnd()}

  - job_name: ${s.name}
    metrics_path: /metrics
    static_configs:
      - targets: ['${s.name}:${s.port}']
`;
  const jobs = (parse(result) as { scrape_configs?: { job_name?: string }[] }).scrape_configs;
  if (jobs?.at(-1)?.job_name !== s.name) fail(file, 'scrape_configs is not the last key');
  return result;
}

/** The service in docker-compose.cluster.yml: every node, quorum queues, like the others. */
export function addClusterService(text: string, s: ServiceSpec): string {
  const file = 'docker-compose.cluster.yml';
  const lines = text.split('\n');
  const volumes = lines.indexOf('volumes:');
  if (lines.indexOf('services:') < 0 || volumes < 0) fail(file, 'no services: then volumes:');
  if (
    !/^x-cluster-depends:\s*&cluster-depends\b/m.test(text) ||
    !/^x-quorum:\s*&quorum\b/m.test(text)
  )
    fail(file, 'no x-cluster-depends / x-quorum anchors to build the service from');
  let end = volumes;
  while (/^\s*$/.test(lines[end - 1]!)) end--;
  const block = `  ${s.name}:
    depends_on: *cluster-depends
    environment:
      <<: *quorum
      RABBITMQ_URL: ${brokerUrl(text, file, s)}`;
  return insertAfterLine(text, end - 1, block);
}

interface Definitions {
  users: object[];
  vhosts: { name: string }[];
  permissions: object[];
  topic_permissions?: object[];
}

/**
 * A broker user for the service in ops/rabbitmq/definitions.json, allowed what the sample
 * services are (docs/security.md): its own `<name>.*` queues and exchange; `events` to bind
 * to and, if it owns events, to publish its own `<name>.*` routing keys; the default
 * exchange only if it answers RPCs (replies). Never to configure `events`. A service with a
 * DLQ also gets a `<name>-dlq` user for `npm run dlq`: its DLQ and its exchange, nothing else.
 */
export function addBrokerUser(text: string, s: ServiceSpec): string {
  const file = 'ops/rabbitmq/definitions.json';
  const definitions = JSON.parse(text) as Definitions;
  if (!Array.isArray(definitions.users) || !Array.isArray(definitions.permissions))
    fail(file, 'no users and permissions lists');
  if (definitions.vhosts?.length !== 1) fail(file, 'not exactly one vhost to give the user');
  const own = `${s.name}\\..*`; // kebab-case letters: nothing to escape
  const vhost = definitions.vhosts[0]!.name;
  const user = (name: string) => ({
    name,
    password_hash: hashPassword(devPassword(name)),
    hashing_algorithm: 'rabbit_password_hashing_sha256',
    tags: [],
    limits: {},
  });
  const publishes = s.events.some((e) => e.isNew);
  const writes = [...(publishes ? ['events'] : []), ...(s.rpcs.length ? ['amq\\.default'] : [])];
  definitions.users.push(user(s.name));
  definitions.permissions.push({
    user: s.name,
    vhost,
    configure: `^${own}`,
    write: `^(${[...writes, own].join('|')})$`,
    read: `^(events|${own})$`,
  });
  (definitions.topic_permissions ??= []).push({
    user: s.name,
    vhost,
    exchange: 'events',
    write: `^${s.name}\\.`,
    read: '.*',
  });
  if (hasDeadLetterQueue(s)) {
    definitions.users.push(user(`${s.name}-dlq`));
    definitions.permissions.push({
      user: `${s.name}-dlq`,
      vhost,
      configure: '^$',
      write: `^${s.name}\\.dlx$`,
      read: `^${s.name}\\.dlq$`,
    });
  }
  return `${JSON.stringify(definitions, null, 2)}\n`;
}
