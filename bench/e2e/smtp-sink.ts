/**
 * The end-to-end workload's SMTP server, in a process of its own: accepts every e-mail,
 * reads its Subject and Message-ID from the header (no MIME parsing: the sink should cost
 * little next to what it measures) and counts them. `GET /stats` tells the bench how many
 * arrived, for how many distinct orders and Message-IDs, and when the last one came.
 * Ports from SMTP_PORT / HTTP_PORT.
 */
import { createServer } from 'node:http';
import { SMTPServer } from 'smtp-server';

const ORDER_IN_SUBJECT = /^Subject: Order ([0-9a-f-]{36}) /im;
const MESSAGE_ID = /^Message-ID:\s*(<[^>]+>)/im;

let mails = 0;
let lastAt = 0;
const orders = new Set<string>();
const messageIds = new Set<string>();

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, _session, callback) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const header = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n')));
      const order = ORDER_IN_SUBJECT.exec(header)?.[1];
      const id = MESSAGE_ID.exec(header)?.[1];
      if (order) orders.add(order);
      if (id) messageIds.add(id);
      mails++;
      lastAt = Date.now();
      callback();
    });
  },
});

const http = createServer((req, res) => {
  if (req.url === '/health/ready') return res.writeHead(200).end('ok');
  if (req.url === '/stats') {
    const body = JSON.stringify({
      mails,
      orders: orders.size,
      messageIds: messageIds.size,
      lastAt,
    });
    return res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  }
  res.writeHead(404).end();
});

await new Promise<void>((resolve) =>
  smtp.listen(Number(process.env.SMTP_PORT), '127.0.0.1', resolve),
);
await new Promise<void>((resolve) =>
  http.listen(Number(process.env.HTTP_PORT), '127.0.0.1', resolve),
);
process.on('SIGTERM', () => {
  http.close();
  smtp.close(() => process.exit(0));
});
