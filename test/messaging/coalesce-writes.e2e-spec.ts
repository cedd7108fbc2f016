import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib, { type ChannelModel } from 'amqplib';
import { amqplibSocket, coalesceWrites } from '@app/messaging';
import { RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { testEnv } from '../support/env.js';

/** Socket writes under a real amqplib connection: how many syscalls `n` publishes cost. */
describe('coalesced socket writes on a real amqplib connection', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  const connections: ChannelModel[] = [];

  beforeAll(async () => {
    vhost = await admin.createVhost('test-coalesce');
  });

  afterAll(async () => {
    for (const c of connections) await c.close();
    await admin.deleteVhost(vhost);
  });

  async function publishInOneTick(coalesced: boolean, n: number) {
    const model = await amqplib.connect(withVhost(testEnv.rabbitUrl, vhost), { noDelay: true });
    connections.push(model);
    const socket = amqplibSocket(model);
    expect(socket).toBeInstanceOf(Socket);
    if (coalesced) coalesceWrites(socket!);
    const ch = await model.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    const received: number[] = [];
    await ch.consume(queue, (msg) => msg && received.push(Number(msg.content)), { noAck: true });

    const syscalls = countSyscalls(socket as Socket);
    for (let i = 0; i < n; i++) ch.publish('', queue, Buffer.from(String(i)));
    await waitFor(`${n} messages back`, () => received.length === n, { timeoutMs: 5_000 });
    syscalls.stop();
    return { received, syscalls: syscalls.count };
  }

  it('sends the messages of one tick in one writev, all delivered in order', async () => {
    const plain = await publishInOneTick(false, 20);
    const coalesced = await publishInOneTick(true, 20);

    const all = Array.from({ length: 20 }, (_, i) => i);
    expect(plain.received).toEqual(all);
    expect(coalesced.received).toEqual(all);
    expect(plain.syscalls).toBeGreaterThanOrEqual(20);
    expect(coalesced.syscalls).toBeLessThanOrEqual(2);
  });
});

/** Counts the socket's trips to libuv (each `_write` or `_writev` is one write attempt). */
function countSyscalls(socket: Socket) {
  const s = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
  const original = { write: s._write, writev: s._writev };
  const counter = {
    count: 0,
    stop: () => Object.assign(s, { _write: original.write, _writev: original.writev }),
  };
  s._write = function (...args) {
    counter.count++;
    return original.write.apply(this, args);
  };
  s._writev = function (...args) {
    counter.count++;
    return original.writev.apply(this, args);
  };
  return counter;
}
