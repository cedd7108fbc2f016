import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withVhost } from '@app/messaging/testing';
import { createTestDatabase } from '../support/database.js';
import { withFaultSystem } from './support/fault-system.js';
import { underLoad } from './support/invariants.js';
import { freePorts } from './support/private-broker.js';
import { runToExit, ServiceProcess } from './support/processes.js';
import { TlsBroker } from './support/tls-broker.js';

const SKU = 'FAULT-TLS';
const STOCK = 10_000;

describe('the services and the broker over TLS (amqps://)', () => {
  let broker: TlsBroker | undefined;

  beforeAll(async () => {
    broker = await TlsBroker.start();
  }, 90_000);

  afterAll(async () => {
    await ServiceProcess.killAll();
    await broker?.stop();
  }, 60_000);

  it(
    'runs the order flow over amqps:// trusting the CA of RABBITMQ_CA_FILE',
    () =>
      withFaultSystem(
        broker!,
        'tls',
        { env: { RABBITMQ_CA_FILE: broker!.certificates.caFile } },
        async (system) => {
          // Witness: the broker lists every process's connection as TLS.
          const connections = await broker!.connections(system.vhost);
          for (const process of system.processes()) {
            const mine = connections.filter((c) => c.client === process);
            expect(mine.length).toBeGreaterThan(0);
            expect(mine.filter((c) => !c.ssl)).toEqual([]);
          }
          // No fault: the flow itself is the case, 4 confirmed orders twice are enough; 3
          // units of the scarce SKU, so that rejections likely travel over TLS too.
          const outcome = await underLoad(
            system,
            { sku: SKU, stock: STOCK, confirmed: 4, scarce: 3 },
            async () => {},
          );
          expect(outcome.confirmed).toBeGreaterThanOrEqual(8);
        },
      ),
    120_000,
  );

  it('refuses a broker whose certificate the given CA did not sign, and says why', async () => {
    const tls = broker!;
    const vhost = await tls.admin.createVhost('faults-tls-wrong-ca');
    const database = await createTestDatabase('faults_tls_wrong_ca');
    const [port] = await freePorts(1);
    try {
      // Its readiness, asked all along: it never says ready, and once it listens (before the
      // broker connection is up) it says why it is not.
      let probing = true;
      const readiness: { status: number; body: string }[] = [];
      const probe = (async () => {
        while (probing) {
          readiness.push(await status(`http://127.0.0.1:${port}/health/ready`));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      // Exactly these variables (run where there is no ./.env).
      const exited = await runToExit(
        'order',
        {
          PATH: process.env.PATH ?? '',
          RABBITMQ_URL: withVhost(tls.amqpUrls[0]!, vhost),
          RABBITMQ_CA_FILE: tls.certificates.otherCaFile,
          RABBITMQ_CONNECT_TIMEOUT_MS: '3000',
          DATABASE_URL: database.url,
          HTTP_PORT: String(port),
          INSECURE_DEV_MODE: 'true',
          LOG_FORMAT: 'json',
        },
        { cwd: tls.certificates.dir, timeoutMs: 30_000 },
      );
      probing = false;
      await probe;
      const output = exited.stdout + exited.stderr;
      expect(readiness.filter((r) => r.status === 200)).toEqual([]);
      const answered = readiness.filter((r) => r.status === 503);
      expect(answered.length).toBeGreaterThan(0);
      expect(exited.code).toBe(1);
      // The reason is the certificate, named at each attempt and in the error it exits with.
      const refused = /self-signed certificate in certificate chain|unable to get local issuer/;
      const lines = output.split('\n');
      expect(lines.find((l) => l.includes('Cannot connect to RabbitMQ at amqps://'))).toMatch(
        refused,
      );
      expect(lines.find((l) => l.includes('RabbitMQ not reachable at amqps://'))).toMatch(refused);
      // And readiness said so: the broker down, with the certificate as the last attempt's error.
      const said = answered.map((r) => JSON.parse(r.body) as { error?: { rabbitmq?: unknown } });
      expect(said.at(-1)?.error?.rabbitmq).toEqual({
        status: 'down',
        message: 'not connected',
        lastAttempt: expect.stringMatching(refused),
      });
      // The broker never had it as a client.
      expect(await tls.connections(vhost)).toEqual([]);
    } finally {
      await tls.admin.deleteVhost(vhost);
      await database.drop();
    }
  }, 60_000);
});

/** The HTTP status of `url`, or 0 when nothing answers. */
async function status(url: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
