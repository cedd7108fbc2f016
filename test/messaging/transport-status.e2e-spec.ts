import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AmqpClient, AmqpConnection, AmqpServer, resolveMessagingOptions } from '@app/messaging';
import { RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { testEnv } from '../support/env.js';
import { ProbeEcho, recordStatus, startProbeApp, startProbeCaller } from './transport-app.js';

describe('the transport reports the broker connection as Nest transports do', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let url: string;
  let app: INestApplication;

  beforeAll(async () => {
    vhost = await admin.createVhost('test-transport-status');
    url = withVhost(testEnv.rabbitUrl, vhost);
    app = await startProbeApp({ urls: url, service: 'probe' });
  });

  afterAll(async () => {
    await app?.close();
    await admin.deleteVhost(vhost);
  });

  it('emits disconnected, reconnecting and connected on server and client when the broker drops the connection', async () => {
    const { client, close } = startProbeCaller(url);
    try {
      const server = app.get(AmqpServer);
      const serverSeen = recordStatus(server);
      const clientSeen = recordStatus(client);
      const disconnects: (Error | undefined)[] = [];
      server.on('disconnect', (error) => disconnects.push(error));
      await client.connect();
      await waitFor('the client to connect', () => clientSeen.at(-1) === 'connected');
      expect(serverSeen).toEqual(['connected']);

      // The management API lists connections a few seconds late: wait for both.
      await waitFor(
        'both connections to be listed',
        async () => (await admin.connections(vhost)).length >= 2,
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      // The witness: the broker closed live connections of this vhost (server's and client's).
      expect(await admin.closeConnections(vhost)).toBeGreaterThanOrEqual(2);

      const cycle = ['connected', 'disconnected', 'reconnecting', 'connected'];
      await waitFor('the server to reconnect', () => serverSeen.join() === cycle.join());
      await waitFor('the client to reconnect', () => clientSeen.join() === cycle.join());
      expect(disconnects).toHaveLength(1);
      expect(await client.request(ProbeEcho, { text: 'back' })).toEqual({ text: 'back' });
    } finally {
      await close();
    }
  });

  it("tells on('error') listeners why it cannot connect, and keeps trying", async () => {
    const options = resolveMessagingOptions({
      urls: withVhost(testEnv.rabbitUrl, `${vhost}-missing`),
      service: 'caller',
    });
    const connection = new AmqpConnection(options);
    const client = new AmqpClient(connection, options);
    try {
      const errors: Error[] = [];
      client.on('error', (error) => errors.push(error));
      const seen = recordStatus(client);
      await waitFor('a refused connection attempt', () => errors.length > 0);
      expect(seen.at(-1)).toBe('reconnecting');
      expect(connection.isConnected()).toBe(false);
    } finally {
      await client.close();
      await connection.onApplicationShutdown();
    }
  });
});
