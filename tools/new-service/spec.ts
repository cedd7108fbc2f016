import {
  camel,
  contractConstant,
  contractFile,
  KEBAB,
  nameProblems,
  pascal,
  RESERVED_METHODS,
  snake,
} from './names.js';

/** What `npm run new:service` was asked for, before any check. */
export interface Request {
  name?: string;
  rpc: readonly string[];
  event: readonly string[];
  http: boolean;
  db: boolean;
  port?: string;
}

/** A contract that exists already (from @app/contracts). */
export interface KnownContract {
  name: string;
  kind: 'rpc' | 'event';
  version: number;
  /** Its exported constant, e.g. OrderConfirmed. */
  constant: string;
}

/** What the repository holds that a new service must not collide with. */
export interface Facts {
  contracts: readonly KnownContract[];
  ports: readonly number[];
  schemas: readonly string[];
}

export interface RpcSpec {
  name: string;
  constant: string;
  method: string;
  verb: string;
  file: string;
}

export interface EventSpec {
  name: string;
  constant: string;
  /** The contract is created with the service (a `<service>.<event>` it defines). */
  isNew: boolean;
  file: string;
  handler: string;
}

/** Everything the templates need, every name already spelled. */
export interface ServiceSpec {
  name: string;
  camel: string;
  pascal: string;
  schema: string;
  /** Prefix of the service's domain error codes, e.g. PAYMENT (PAYMENT.RECORD_NOT_FOUND). */
  errorPrefix: string;
  port: number;
  http: boolean;
  /** Tables and migrations: asked with --db, implied by an event handler (its inbox). */
  db: boolean;
  rpcs: RpcSpec[];
  events: EventSpec[];
}

const MESSAGE = /^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$/;

/** Checks the request against naming rules and the repository; every problem at once. */
export function buildSpec(
  request: Request,
  facts: Facts,
): { spec?: ServiceSpec; problems: string[] } {
  const name = request.name ?? '';
  if (!request.name) return { problems: ['name the service: npm run new:service -- <name>'] };
  const problems = nameProblems(name);
  if (problems.length > 0) return { problems };
  const known = new Map(facts.contracts.map((c) => [c.name, c]));
  const rpcs = unique(request.rpc, '--rpc', problems).flatMap((message) => {
    const verb = message.slice(name.length + 1);
    if (!MESSAGE.test(message) || !message.startsWith(`${name}.`) || !KEBAB.test(verb)) {
      problems.push(
        `--rpc ${message}: an RPC is named after the service that answers it: ${name}.<verb>`,
      );
      return [];
    }
    if (known.has(message))
      problems.push(`--rpc ${message}: a contract of that name exists already`);
    if (RESERVED_METHODS.has(camel(verb)))
      problems.push(`--rpc ${message}: pick another verb than "${verb}"`);
    return [
      {
        name: message,
        verb,
        method: camel(verb),
        constant: contractConstant(message),
        file: contractFile(message, 'rpc'),
      },
    ];
  });
  const events = unique(request.event, '--event', problems).flatMap((message): EventSpec[] => {
    const handler = `on${contractConstant(message)}`;
    const existing = known.get(message);
    if (existing?.kind === 'event') {
      return [{ name: message, constant: existing.constant, isNew: false, file: '', handler }];
    }
    if (existing) {
      problems.push(`--event ${message}: that is an RPC, not an event (use --rpc for RPCs)`);
    } else if (!MESSAGE.test(message) || !message.startsWith(`${name}.`)) {
      problems.push(
        `--event ${message}: no such event in libs/contracts, and a new one is named by its service: ${name}.<something>`,
      );
    } else {
      return [
        {
          name: message,
          constant: contractConstant(message),
          isNew: true,
          file: contractFile(message, 'event'),
          handler,
        },
      ];
    }
    return [];
  });
  const schema = snake(name);
  if (facts.schemas.includes(schema))
    problems.push(`schema "${schema}" belongs to another service already`);
  const port = choosePort(request.port, facts.ports, problems);
  if (problems.length > 0) return { problems };
  return {
    problems,
    spec: {
      name,
      camel: camel(name),
      pascal: pascal(name),
      schema,
      errorPrefix: schema.toUpperCase(),
      port,
      http: request.http,
      db: request.db || events.length > 0,
      rpcs,
      events,
    },
  };
}

function unique(values: readonly string[], flag: string, problems: string[]): string[] {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) problems.push(`${flag} ${v} is given twice`);
    seen.add(v);
  }
  return [...seen];
}

/** --port if valid and free, else the next port after the highest one in use. */
function choosePort(
  requested: string | undefined,
  used: readonly number[],
  problems: string[],
): number {
  if (requested === undefined) return Math.max(3000, ...used) + 1;
  const port = Number(requested);
  if (!/^\d+$/.test(requested) || port < 1024 || port > 65_535) {
    problems.push(`--port ${requested}: use a port between 1024 and 65535`);
  } else if (used.includes(port)) {
    problems.push(`--port ${requested}: another service uses it`);
  }
  return port;
}
