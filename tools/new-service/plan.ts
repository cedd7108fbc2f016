import * as prettier from 'prettier';
import {
  addBrokerUser,
  addClusterService,
  addComposeService,
  addContractsExport,
  addDockerTarget,
  addEnvSection,
  addNestProject,
  addReadmeRow,
  addScrapeJob,
  addRegisteredService,
  addRegistryNamespace,
  addStartScript,
  EditError,
} from './edits.js';
import {
  buildSpec,
  type Facts,
  type KnownContract,
  type Request,
  type ServiceSpec,
} from './spec.js';
import * as app from './templates/app.js';
import * as contracts from './templates/contracts.js';
import * as data from './templates/data.js';
import * as handlers from './templates/handlers.js';
import * as http from './templates/http.js';
import * as tests from './templates/tests.js';

/** Read access to the repository (the real one, or an in-memory copy in tests). */
export interface Files {
  read(path: string): string | undefined;
  /** Names in a directory, [] if there is none. */
  list(dir: string): string[];
}

/** One file to write: `previous` is undefined for a new file. */
export interface Change {
  path: string;
  content: string;
  previous?: string;
}

export type Planned =
  { ok: true; spec: ServiceSpec; changes: Change[] } | { ok: false; problems: string[] };

/** Validates the request against the repository and computes every change; writes nothing. */
export async function plan(
  request: Request,
  files: Files,
  known: readonly KnownContract[],
): Promise<Planned> {
  if (request.name && files.list('apps').includes(request.name)) {
    return { ok: false, problems: [exists(request.name)] };
  }
  const facts: Facts = { contracts: known, ports: usedPorts(files), schemas: usedSchemas(files) };
  const { spec, problems } = buildSpec(request, facts);
  if (!spec) return { ok: false, problems };
  const taken = takenBy(spec, files);
  if (taken.length > 0) return { ok: false, problems: taken };
  try {
    const created = newFiles(spec, files);
    const edited = editedFiles(spec, files);
    const changes = [...created.map(([path, content]) => ({ path, content })), ...edited];
    return { ok: true, spec, changes: await Promise.all(changes.map(format)) };
  } catch (error) {
    if (error instanceof EditError) return { ok: false, problems: [error.message] };
    throw error;
  }
}

function usedPorts(files: Files): number[] {
  const texts = [files.read('Dockerfile') ?? '', files.read('apps/services.ts') ?? ''];
  return texts.flatMap((t) =>
    [...t.matchAll(/(?:HTTP_PORT=|port: )(\d+)/g)].map((m) => Number(m[1])),
  );
}

function usedSchemas(files: Files): string[] {
  return files.list('apps').flatMap((app) =>
    files
      .list(`apps/${app}/src`)
      .filter((f) => f.endsWith('.config.ts'))
      .flatMap((f) =>
        [...(files.read(`apps/${app}/src/${f}`) ?? '').matchAll(/schema: '(\w+)'/g)].map(
          (m) => m[1]!,
        ),
      ),
  );
}

const exists = (name: string) =>
  `apps/${name} exists already: "${name}" is taken. Pick another name (docs/template.md says how to remove a service).`;

/** Where the name is in use already, besides apps/ (checked first, before the name rules). */
function takenBy(s: ServiceSpec, files: Files): string[] {
  const places = [
    [`nest-cli.json`, new RegExp(`"${s.name}":\\s*{`)],
    ['docker-compose.yml', new RegExp(`^  ${s.name}:`, 'm')],
    ['Dockerfile', new RegExp(`^FROM \\S+ AS ${s.name}$`, 'm')],
    ['apps/services.ts', new RegExp(`^\\s*'?${s.name}'?: register\\(`, 'm')],
    ['package.json', new RegExp(`"start:${s.name}":`)],
    ['ops/rabbitmq/definitions.json', new RegExp(`"(name|user)":\\s*"${s.name}"`)],
  ] as const;
  const found = places
    .filter(([file, pattern]) => pattern.test(files.read(file) ?? ''))
    .map(([file]) => file);
  const test = files.list('test').includes(s.name) ? [`test/${s.name}/`] : [];
  const contractFiles = [...s.rpcs, ...s.events.filter((e) => e.isNew)]
    .map((c) => `libs/contracts/src/${s.name}/${c.file}`)
    .filter((path) => files.read(path) !== undefined);
  const all = [...found, ...test, ...contractFiles];
  return all.length > 0
    ? [`"${s.name}" is already in ${all.join(', ')}: remove it there first, or pick another name`]
    : [];
}

function newFiles(s: ServiceSpec, files: Files): [string, string][] {
  const src = `apps/${s.name}/src`;
  const ns = `libs/contracts/src/${s.name}`;
  const newContracts = s.rpcs.length + s.events.filter((e) => e.isNew).length > 0;
  const nsIndex = files.read(`${ns}/index.ts`);
  return [
    [`${src}/main.ts`, app.mainFile(s)],
    [`${src}/${s.name}.config.ts`, app.configFile(s)],
    [`${src}/${s.name}.config.spec.ts`, tests.configSpecFile(s)],
    [`${src}/${s.name}-app.module.ts`, app.moduleFile(s)],
    [`${src}/${s.name}.service.ts`, handlers.serviceFile(s)],
    [`${src}/migrations/index.ts`, app.migrationsIndexFile(s)],
    ...(s.db
      ? ([
          [`${src}/${s.name}.statements.ts`, data.statementsFile(s)],
          [`${src}/${s.name}.repository.ts`, data.repositoryFile(s)],
          [`${src}/migrations/001-initial.ts`, app.initialMigrationFile()],
        ] as [string, string][])
      : []),
    ...(s.rpcs.length
      ? ([[`${src}/${s.name}.rpc.controller.ts`, handlers.rpcControllerFile(s)]] as [
          string,
          string,
        ][])
      : []),
    ...(s.events.length
      ? ([[`${src}/${s.name}.events.controller.ts`, handlers.eventsControllerFile(s)]] as [
          string,
          string,
        ][])
      : []),
    ...(s.http
      ? ([[`${src}/${s.name}.http.controller.ts`, http.httpControllerFile(s)]] as [
          string,
          string,
        ][])
      : []),
    ...s.rpcs.map((r): [string, string] => [`${ns}/${r.file}`, contracts.rpcContractFile(s, r)]),
    ...s.events
      .filter((e) => e.isNew)
      .map((e): [string, string] => [`${ns}/${e.file}`, contracts.eventContractFile(s, e)]),
    ...(newContracts && nsIndex === undefined
      ? ([[`${ns}/index.ts`, `${contracts.namespaceExports(s).join('\n')}\n`]] as [
          string,
          string,
        ][])
      : []),
    ...(newContracts
      ? ([[`${ns}/${s.name}.contracts.spec.ts`, contracts.contractsSpecFile(s)]] as [
          string,
          string,
        ][])
      : []),
    [`test/${s.name}/${s.name}.e2e-spec.ts`, tests.e2eSpecFile(s)],
  ];
}

function editedFiles(s: ServiceSpec, files: Files): Change[] {
  const ns = `libs/contracts/src/${s.name}`;
  const newContracts = s.rpcs.length + s.events.filter((e) => e.isNew).length > 0;
  const edits: [string, (text: string, spec: ServiceSpec) => string][] = [
    ['nest-cli.json', addNestProject],
    ['package.json', addStartScript],
    ['docker-compose.yml', addComposeService],
    ['Dockerfile', addDockerTarget],
    ['.env.example', addEnvSection],
    ['README.md', addReadmeRow],
    ['apps/services.ts', addRegisteredService],
  ];
  if (newContracts) {
    edits.push(
      ['libs/contracts/src/index.ts', addContractsExport],
      ['libs/contracts/src/registry.ts', addRegistryNamespace],
    );
    const nsIndex = files.read(`${ns}/index.ts`);
    if (nsIndex !== undefined) {
      edits.push([
        `${ns}/index.ts`,
        (text) => `${text.trimEnd()}\n${contracts.namespaceExports(s).join('\n')}\n`,
      ]);
    }
  }
  // Optional: only where the repository has them.
  const optional: [string, (text: string, spec: ServiceSpec) => string][] = [
    ['ops/prometheus/prometheus.yml', addScrapeJob],
    ['ops/rabbitmq/definitions.json', addBrokerUser],
    ['docker-compose.cluster.yml', addClusterService],
  ];
  edits.push(...optional.filter(([path]) => files.read(path) !== undefined));
  return edits.map(([path, edit]) => {
    const previous = files.read(path);
    if (previous === undefined) throw new EditError(`${path} is missing; the generator edits it`);
    return { path, previous, content: edit(previous, s) };
  });
}

/** Formats what prettier knows how to (everything but Dockerfile and .env.example). */
async function format(change: Change): Promise<Change> {
  const info = await prettier.getFileInfo(change.path, { ignorePath: '.prettierignore' });
  if (!info.inferredParser || info.ignored) return change;
  const options = (await prettier.resolveConfig(change.path)) ?? {};
  return {
    ...change,
    content: await prettier.format(change.content, { ...options, filepath: change.path }),
  };
}
