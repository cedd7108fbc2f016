import amqplib from 'amqplib';
import pg from 'pg';

// jest loads globalSetup outside its module system (no path mapping, no .js → .ts), so this
// file imports packages only and repeats the defaults of ./env.ts.
const testEnv = {
  rabbitUrl: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  managementUrl: process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672',
};

const HOW_TO_START = `
The e2e suites and the bench need a real RabbitMQ (with the management plugin) and PostgreSQL.
  Locally:  rabbitmq-server -detached && rabbitmq-plugins enable rabbitmq_management
            pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
  Or point RABBITMQ_URL, RABBITMQ_MANAGEMENT_URL and DATABASE_URL at running ones; with only
  Docker, the compose broker and database as README.md, "Quick start", shows (user admin,
  vhost shop in RABBITMQ_URL: that broker has no guest and no vhost /).`;

/** Fails at once, with what to do, when a service the suites need is not reachable. */
export default async function globalSetup(): Promise<void> {
  const problems: string[] = [];
  await amqplib
    .connect(testEnv.rabbitUrl)
    .then((c) => c.close())
    .catch((e: Error) => problems.push(`RabbitMQ at ${testEnv.rabbitUrl}: ${e.message}`));
  await pingManagement(testEnv.managementUrl).catch((e: Error) =>
    problems.push(`RabbitMQ management API at ${testEnv.managementUrl}: ${e.message}`),
  );
  const client = new pg.Client({ connectionString: testEnv.databaseUrl });
  await client
    .connect()
    .then(() => client.end())
    .catch((e: Error) => problems.push(`PostgreSQL at ${testEnv.databaseUrl}: ${e.message}`));
  if (problems.length > 0) throw new Error(`${problems.join('\n')}\n${HOW_TO_START}`);
}

async function pingManagement(managementUrl: string): Promise<void> {
  const url = new URL(managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  );
  url.username = url.password = '';
  const res = await fetch(new URL('api/overview', url), {
    headers: { authorization: `Basic ${auth.toString('base64')}` },
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}
