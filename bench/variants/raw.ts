import { randomUUID } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { BASELINE } from '../table.js';
import { Arrivals } from '../support/arrivals.js';
import { type BenchBody, BenchQueues } from '../support/payload.js';
import type { ConsumerSettings, EventTarget, RpcTarget, Variant } from './types.js';

/**
 * Plain amqplib written the fastest correct way: Nagle off, direct reply-to with a
 * correlation map, manual acks with bounded prefetch, replies on the consuming channel,
 * persistent events on a confirm channel with confirms pipelined (never one wait per message).
 */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const EXCHANGE = 'events';
const JSON_TYPE = 'application/json';

function connect(url: string): Promise<ChannelModel> {
  return amqplib.connect(url, { noDelay: true });
}

export function rawRpc(settings: ConsumerSettings): Variant<RpcTarget> {
  return {
    name: BASELINE,
    async start(url) {
      const connection = await connect(url);
      const server = await connection.createChannel();
      await server.assertQueue(BenchQueues.rpc, { durable: true });
      await server.prefetch(settings.rpcPrefetch);
      await server.consume(BenchQueues.rpc, (msg) => {
        if (!msg) return;
        const request = JSON.parse(msg.content.toString()) as BenchBody;
        server.publish('', msg.properties.replyTo as string, Buffer.from(JSON.stringify(request)), {
          correlationId: msg.properties.correlationId as string,
          contentType: JSON_TYPE,
        });
        server.ack(msg);
      });

      const client = await connection.createChannel();
      const pending = new Map<string, (content: Buffer) => void>();
      await client.consume(
        DIRECT_REPLY_TO,
        (msg) => {
          const id = msg?.properties.correlationId as string | undefined;
          const settle = id === undefined ? undefined : pending.get(id);
          if (!settle) return;
          pending.delete(id!);
          settle(msg!.content);
        },
        { noAck: true },
      );
      let seq = 0;
      return {
        call: (body) =>
          new Promise((resolve) => {
            // Replies come back on this channel only, so a per-connection counter is unique.
            const id = String(++seq);
            pending.set(id, (content) => resolve(JSON.parse(content.toString())));
            client.publish('', BenchQueues.rpc, Buffer.from(JSON.stringify(body)), {
              correlationId: id,
              replyTo: DIRECT_REPLY_TO,
              contentType: JSON_TYPE,
              type: 'bench.echo',
            });
          }),
        close: () => connection.close(),
      };
    },
  };
}

/** `consumers` connections each consume the events queue; the first also publishes. */
export function rawEvents(settings: ConsumerSettings, consumers = 1): Variant<EventTarget> {
  return {
    name: BASELINE,
    async start(url) {
      const arrivals = new Arrivals();
      const connections: ChannelModel[] = [];
      for (let i = 0; i < consumers; i++) {
        const connection = await connect(url);
        connections.push(connection);
        const ch = await connection.createChannel();
        await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
        await ch.assertQueue(BenchQueues.events, { durable: true });
        await ch.bindQueue(BenchQueues.events, EXCHANGE, 'bench.happened');
        await ch.prefetch(settings.prefetch);
        await ch.consume(BenchQueues.events, (msg) => {
          if (!msg) return;
          JSON.parse(msg.content.toString());
          ch.ack(msg);
          arrivals.hit();
        });
      }
      const publisher = await connections[0]!.createConfirmChannel();
      return {
        arrivals,
        publish: (n, body) => publishConfirmed(publisher, n, body),
        close: async () => {
          for (const c of connections) await c.close();
        },
      };
    },
  };
}

/** Publishes n messages, pausing on 'drain', and resolves on the n-th confirm. */
function publishConfirmed(ch: ConfirmChannel, n: number, body: BenchBody): Promise<void> {
  return new Promise((resolve, reject) => {
    let confirmed = 0;
    let sent = 0;
    const onConfirm = (err: unknown) => {
      if (err) return reject(err instanceof Error ? err : new Error('publish nacked'));
      if (++confirmed === n) resolve();
    };
    const pump = () => {
      while (sent < n) {
        sent++;
        const writable = ch.publish(
          EXCHANGE,
          'bench.happened',
          Buffer.from(JSON.stringify(body)),
          {
            persistent: true,
            contentType: JSON_TYPE,
            messageId: randomUUID(),
            type: 'bench.happened',
          },
          onConfirm,
        );
        if (!writable) return void (ch as Channel).once('drain', pump);
      }
    };
    pump();
  });
}
