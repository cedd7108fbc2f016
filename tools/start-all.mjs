// `npm run start:all`: runs the built services against local RabbitMQ/PostgreSQL
// (settings from .env, see .env.example), each line prefixed with its service. Ctrl-C stops
// all of them gracefully; if one dies, the others are stopped too.
// If SMTP_URL points at this machine and nothing listens there, a small SMTP sink starts
// too and prints each e-mail, so the whole flow works without Mailpit.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

// Every application of nest-cli.json (npm run new:service adds one), each in its own colour.
const COLOURS = [36, 33, 35, 34, 32, 31];
const nestCli = JSON.parse(readFileSync('nest-cli.json', 'utf8'));
const services = Object.entries(nestCli.projects)
  .filter(([, project]) => project.type === 'application')
  .map(([name], i) => [name, COLOURS[i % COLOURS.length]]);
const width = Math.max(...services.map(([name]) => name.length));
if (existsSync('.env')) process.loadEnvFile('.env');
const smtp = await startSmtpSink(process.env.SMTP_URL);
let stopping = false;
let exitCode = 0;

const children = services.map(([name, color]) => {
  const child = spawn(process.execPath, [`dist/apps/${name}/src/main.js`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const prefix = `\x1b[${color}m${name.padEnd(width)}\x1b[0m |`;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) =>
      process.stdout.write(`${prefix} ${line}\n`),
    );
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${prefix} exited (${signal ?? code})\n`);
    if (!stopping) {
      exitCode = code || 1;
      stopAll('SIGTERM');
    }
  });
  return child;
});

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll('SIGTERM'));
await Promise.all(
  children.map(
    (c) => new Promise((resolve) => (c.exitCode !== null ? resolve() : c.on('exit', resolve))),
  ),
);
smtp?.close();
process.exit(exitCode);

async function startSmtpSink(smtpUrl) {
  if (!smtpUrl) return undefined;
  const url = new URL(smtpUrl);
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) return undefined;
  const prefix = `\x1b[32m${'smtp'.padEnd(width)}\x1b[0m |`;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        process.stdout.write(`${prefix} to ${mail.to?.text}: ${mail.subject}\n`);
        callback();
      }, callback);
    },
  });
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined)); // port taken: a real catcher runs there
    server.listen(Number(url.port || 25), url.hostname, () => {
      process.stdout.write(`${prefix} sink listening on ${url.host} (e-mails are printed here)\n`);
      resolve(server);
    });
  });
}
