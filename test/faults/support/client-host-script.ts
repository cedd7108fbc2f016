// The client host's program (run by client-host.ts inside the client namespace, through
// test/support/ts-register.mjs): the SMTP sink the notification services send to and the order
// load, both on the lab's switch, where the test process cannot listen or connect. Commands
// arrive as JSON lines on stdin; what happens leaves as JSON lines on stdout.
import { createInterface } from 'node:readline';
import { SmtpSink } from '../../support/smtp.js';
import { OrderLoad, type OrderLoadOptions } from './order-load.js';

export type ClientCommand =
  { op: 'load'; ordersUrl: string; skus: string[]; options?: OrderLoadOptions } | { op: 'stop' };

export type ClientEvent =
  | { type: 'ready'; smtpUrl: string }
  | { type: 'mail'; mail: SmtpSink['mails'][number] }
  | { type: 'accepted'; order: OrderLoad['accepted'][number] }
  | { type: 'failed'; failure: OrderLoad['failures'][number] }
  | { type: 'refused'; count: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

/** SMTP's port on the client host: the namespace is the run's own, so no other process has it. */
const SMTP_PORT = 2525;
const emit = (event: ClientEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);

const smtp = await SmtpSink.start(process.env.CLIENT_ADDRESS ?? '0.0.0.0', SMTP_PORT);
let load: OrderLoad | undefined;
const sent = { mails: 0, accepted: 0, failures: 0, refused: 0 };

/** Streams what is new since the last call (the arrays only grow). */
function flush(): void {
  for (const mail of smtp.mails.slice(sent.mails)) emit({ type: 'mail', mail });
  sent.mails = smtp.mails.length;
  if (smtp.refused !== sent.refused)
    emit({ type: 'refused', count: (sent.refused = smtp.refused) });
  if (!load) return;
  for (const order of load.accepted.slice(sent.accepted)) emit({ type: 'accepted', order });
  for (const failure of load.failures.slice(sent.failures)) emit({ type: 'failed', failure });
  sent.accepted = load.accepted.length;
  sent.failures = load.failures.length;
}
setInterval(flush, 50);

async function handle(command: ClientCommand): Promise<void> {
  if (command.op === 'load') {
    if (load) throw new Error('a load is still running');
    load = new OrderLoad(command.ordersUrl, command.skus, command.options);
    Object.assign(sent, { accepted: 0, failures: 0 });
  } else {
    await load?.stop();
    flush();
    load = undefined;
    emit({ type: 'stopped' });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  handle(JSON.parse(line) as ClientCommand).catch((error: Error) =>
    emit({ type: 'error', message: error.message }),
  );
});
// The test process went away: so does the client.
process.stdin.on('end', () => process.exit(0));
emit({ type: 'ready', smtpUrl: smtp.url });
