// Reads the deployment files the way Docker and compose would, for specs that cannot run them.
import { readFileSync } from 'node:fs';
import type { Env } from '@app/platform';
import { parse } from 'yaml';

export const read = (file: string) =>
  readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

export interface Service {
  image?: string;
  build?: { context?: string; target?: string };
  restart?: string;
  container_name?: string;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  ports?: (string | number)[];
  volumes?: string[];
  environment?: Record<string, string | number | boolean | null>;
}
export const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
export const service = (name: string): Service => compose.services[name] ?? {};

/** Compose fills `${VAR:-default}` from the shell; a clean machine gets the default. */
export function resolveEnvironment(environment: Service['environment'] = {}): Env {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      String(value ?? '').replace(
        /\$\{\w+(?::?-([^}]*))?\}/g,
        (_, fallback?: string) => fallback ?? '',
      ),
    ]),
  );
}

/** A service's environment in docker-compose.yml, as a clean machine gets it. */
export const composeEnv = (name: string): Env => resolveEnvironment(service(name).environment);

/** `[ip:][host:]container[/proto]` → `host:container`, with an empty host if none is bound. */
export const published = (name: string) =>
  (service(name).ports ?? []).map((p) => {
    const parts = String(p).split('/')[0].split(':');
    return `${parts.length > 1 ? parts.at(-2) : ''}:${parts.at(-1)}`;
  });

interface Stage {
  from: string;
  lines: { op: string; args: string }[];
}
const stages = new Map<string, Stage>();
for (const line of read('Dockerfile').replace(/\\\n/g, ' ').split('\n')) {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) continue;
  const [op, args] = [text.split(/\s/)[0].toUpperCase(), text.replace(/^\S+\s*/, '')];
  const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(text);
  if (from) stages.set(from[2] ?? `#${stages.size}`, { from: from[1], lines: [] });
  else [...stages.values()].at(-1)?.lines.push({ op, args });
}
/** The names of the Dockerfile's stages, in order. */
export const dockerfileStages = () => [...stages.keys()];
/** The instructions a stage runs or inherits, oldest first (`FROM <stage>` inherits). */
export function chain(name: string): Stage['lines'] {
  const stage = stages.get(name);
  return stage ? [...chain(stage.from), ...stage.lines] : [];
}
export const last = (name: string, op: string) => chain(name).findLast((l) => l.op === op)?.args;
export const imageEnv = (name: string): Env =>
  Object.fromEntries(
    chain(name)
      .filter((l) => l.op === 'ENV')
      .flatMap((l) => l.args.split(/\s+/).map((pair) => pair.split('='))),
  );

/** `.env.example` lines `NAME=value`, also commented-out ones, with the line above each. */
export function envFileEntries(text: string) {
  const lines = text.split('\n');
  return lines.flatMap((line, i) => {
    const match = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    return match
      ? [{ name: match[2], value: match[3], active: !match[1], above: lines[i - 1] }]
      : [];
  });
}

/** ops/rabbitmq/definitions.json: the broker users, vhost and permissions compose loads. */
export interface BrokerDefinitions {
  users: { name: string; password_hash: string; tags: string[] }[];
  vhosts: { name: string }[];
  permissions: { user: string; vhost: string; configure: string; write: string; read: string }[];
  topic_permissions: {
    user: string;
    vhost: string;
    exchange: string;
    write: string;
    read: string;
  }[];
  exchanges: { name: string; vhost: string; type: string; durable: boolean }[];
}
export const brokerDefinitions = JSON.parse(
  read('ops/rabbitmq/definitions.json'),
) as BrokerDefinitions;
