/**
 * `npm run dlq -- <command> <service|queue> …`: look into a service's dead-letter queue,
 * replay messages to the queue they failed in, or delete them. See docs/messaging.md,
 * "Dead-letter queue tool". The work is done by DeadLetters in libs/dead-letters; this file
 * parses arguments and prints.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type DeadLetter,
  type DeadLetterFilter,
  deadLetterQueueName,
  DeadLetters,
  type DeadLetterSummary,
  type Scan,
} from '@app/dead-letters';
import { isEntryModule } from './entry.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

const USAGE = `usage: npm run dlq -- <command> <service|queue> [options]

  list   <service|queue> [--type T] [--reason R] [--id ID] [--count N] [--json]
  show   <service|queue> <messageId> [--json]
  replay <service|queue> [--type T] [--reason R] [--id ID] [--count N] [--json]
  purge  <service|queue> [--type T] [--reason R] [--id ID] [--count N] [--yes] [--json]

A service name (notification) means its dead-letter queue (notification.dlq). list shows
50 messages unless --count says otherwise; replay and purge act on every match. The broker
is the first URL of RABBITMQ_URL (from the environment or ./.env).
Exit codes: 0 done, 1 failed (or a message could not be replayed), 2 usage.`;

const COMMANDS = ['list', 'show', 'replay', 'purge'] as const;
type CommandName = (typeof COMMANDS)[number];

interface Command {
  name: CommandName;
  target: string;
  messageId?: string;
  filter: DeadLetterFilter;
  json: boolean;
  yes: boolean;
}

class UsageError extends Error {}

/** Runs one command and returns the process exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let command: Command | 'help';
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !isParseArgsError(error)) throw error;
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command === 'help') {
    io.out(USAGE);
    return 0;
  }
  const url = io.env.RABBITMQ_URL?.split(',')[0]?.trim();
  if (!url) {
    io.err('RABBITMQ_URL is not set (in the environment or ./.env)');
    return 1;
  }
  let dlq: DeadLetters | undefined;
  try {
    dlq = await DeadLetters.connect(url);
    return await run(command, dlq, io);
  } catch (error) {
    io.err(`dlq ${command.name}: ${(error as Error).message ?? String(error)}`);
    return 1;
  } finally {
    await dlq?.close();
  }
}

function parseCommand(argv: readonly string[]): Command | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      type: { type: 'string' },
      reason: { type: 'string' },
      id: { type: 'string' },
      count: { type: 'string' },
      json: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const [name, target, messageId, ...extra] = positionals;
  if (!name) throw new UsageError('name a command');
  if (!COMMANDS.includes(name as CommandName)) throw new UsageError(`unknown command "${name}"`);
  if (!target) throw new UsageError(`${name}: name a service or a dead-letter queue`);
  const filter: DeadLetterFilter = {
    type: values.type,
    reason: values.reason,
    messageId: values.id,
    count: values.count === undefined ? undefined : parseCount(values.count),
  };
  const filtered = Object.values(filter).some((v) => v !== undefined);
  if (name === 'show' ? !messageId || filtered : messageId !== undefined) {
    throw new UsageError(
      name === 'show' ? 'show takes a queue and a message id, no filters' : 'too many arguments',
    );
  }
  if (extra.length > 0) throw new UsageError('too many arguments');
  if (values.yes && name !== 'purge') throw new UsageError('--yes is for purge only');
  return {
    name: name as CommandName,
    target: deadLetterQueueName(target),
    messageId,
    filter,
    json: values.json,
    yes: values.yes,
  };
}

function parseCount(raw: string): number {
  if (!/^[1-9]\d*$/.test(raw)) throw new UsageError(`--count must be a positive integer: ${raw}`);
  return Number(raw);
}

async function run(command: Command, dlq: DeadLetters, io: Io): Promise<number> {
  const { target: queue, filter } = command;
  const print = (value: unknown, text: () => string) =>
    io.out(command.json ? JSON.stringify(value, null, 2) : text());
  switch (command.name) {
    case 'list': {
      const result = await dlq.list(queue, filter);
      const note = scanNote(result, 'listed', result.messages.length);
      print(result, () =>
        result.messages.length > 0 ? `${summaryTable(result.messages)}\n${note}` : note,
      );
      return 0;
    }
    case 'show': {
      const message = await dlq.show(queue, command.messageId!);
      if (!message) {
        io.err(`no message ${command.messageId} in ${queue}`);
        return 1;
      }
      print(message, () => describe(message));
      return 0;
    }
    case 'replay': {
      const result = await dlq.replay(queue, filter);
      print(result, () =>
        [
          ...result.replayed.map((m) => `replayed ${m.messageId ?? '(no id)'} → ${m.to}`),
          ...result.skipped.map((m) => `left ${m.messageId ?? '(no id)'} in ${queue}: ${m.why}`),
          scanNote(result, 'replayed', result.replayed.length),
        ].join('\n'),
      );
      return result.skipped.length > 0 ? 1 : 0;
    }
    case 'purge': {
      if (!command.yes) return refusePurge(dlq, command, io);
      const result = await dlq.purge(queue, filter);
      print(result, () => scanNote(result, 'deleted', result.purged));
      return 0;
    }
  }
}

/** Purge without --yes: say what would go, touch nothing. */
async function refusePurge(dlq: DeadLetters, command: Command, io: Io): Promise<number> {
  const { target: queue, filter } = command;
  const all = Object.values(filter).every((v) => v === undefined);
  const scan = all
    ? undefined
    : await dlq.list(queue, { ...filter, count: filter.count ?? Number.MAX_SAFE_INTEGER });
  const count = scan ? scan.messages.length : await dlq.depth(queue);
  const atLeast = scan && scan.stoppedBy !== 'end' && scan.stoppedBy !== 'count' ? 'at least ' : '';
  io.err(
    `purge would delete ${atLeast}${count} message(s) from ${queue}; nothing deleted. ` +
      'Run it again with --yes to delete them.',
  );
  return 2;
}

function summaryTable(messages: readonly DeadLetterSummary[]): string {
  const header = ['MESSAGE ID', 'TYPE', 'REASON', 'ATTEMPTS', 'FAILED AT', 'FROM', 'ERROR'];
  const rows = messages.map((m) => [
    m.messageId,
    m.type,
    m.deadLetteredBy === 'broker' ? `${m.reason ?? '?'} (broker)` : m.reason,
    m.attempts?.toString(),
    m.failedAt,
    m.originalQueue,
    clip(m.error?.replace(/\s+/g, ' '), 60),
  ]);
  return table([header, ...rows]);
}

function table(rows: readonly (string | undefined)[][]): string {
  const cells = rows.map((row) => row.map((cell) => cell ?? '-'));
  if (cells.length === 0) return '(none)';
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function scanNote(scan: Scan, verb: string, done: number): string {
  const why = {
    end: 'the whole queue was read',
    count: '--count reached, more may match',
    'scan-limit': 'stopped at the scan limit, more may match',
    timeout: 'stopped at the time limit, more may match',
  }[scan.stoppedBy];
  return `${verb} ${done} message(s) of ${scan.scanned} read from ${scan.queue} (${why})`;
}

function describe(m: DeadLetter): string {
  const origin = m.origin
    ? `${m.origin.queue} (exchange "${m.origin.exchange ?? '?'}", routing key ${m.origin.routingKey ?? '?'})`
    : undefined;
  const facts: [string, string | undefined][] = [
    ['message id', m.messageId],
    ['type', m.type],
    ['reason', m.reason && `${m.reason} (dead-lettered by ${m.service ?? m.deadLetteredBy})`],
    ['error', m.error],
    ['attempts', m.attempts?.toString()],
    ['failed at', m.failedAt],
    ['original queue', origin],
    ['correlation id', m.correlationId],
    ['size', `${m.size} bytes`],
  ];
  const body = m.bodyFormat === 'json' ? JSON.stringify(m.body, null, 2) : String(m.body);
  return [
    table(facts.map(([k, v]) => [k, v])),
    '',
    'properties',
    indent(table(Object.entries(m.properties).map(([k, v]) => [k, JSON.stringify(v)]))),
    'headers',
    indent(table(Object.entries(m.headers).map(([k, v]) => [k, JSON.stringify(v)]))),
    `body (${m.bodyFormat})`,
    indent(body),
  ].join('\n');
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}

function clip(text: string | undefined, max: number): string | undefined {
  return text && text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function isParseArgsError(error: unknown): boolean {
  return String((error as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS');
}

function processIo(): Io {
  return {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
    env: process.env,
  };
}

if (isEntryModule(import.meta.url)) {
  if (existsSync('.env')) process.loadEnvFile('.env');
  process.exitCode = await main(process.argv.slice(2));
}
