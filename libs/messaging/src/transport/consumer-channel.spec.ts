import { describe, expect, it } from '@jest/globals';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { ConsumerChannel } from './consumer-channel.js';

/**
 * A channel that settles like RabbitMQ does (rabbit_channel:collect_acks): a tag must be
 * outstanding, and `multiple` settles every outstanding tag up to it. Records each frame.
 */
function brokerChannel() {
  const outstanding = new Set<number>();
  const frames: string[] = [];
  const acked: number[] = [];
  const requeued: number[] = [];
  const settle = (kind: 'ack' | 'nack', msg: ConsumeMessage, multiple: boolean) => {
    const tag = msg.fields.deliveryTag;
    if (!outstanding.has(tag)) throw new Error(`PRECONDITION_FAILED - unknown delivery tag ${tag}`);
    frames.push(`${kind} ${tag}${multiple ? ' multiple' : ''}`);
    const tags = multiple ? [...outstanding].filter((t) => t <= tag) : [tag];
    for (const t of tags) {
      outstanding.delete(t);
      (kind === 'ack' ? acked : requeued).push(t);
    }
  };
  const channel = {
    ack: (msg: ConsumeMessage, multiple = false) => settle('ack', msg, multiple),
    nack: (msg: ConsumeMessage, multiple = false) => settle('nack', msg, multiple),
  } as unknown as ConfirmChannel;
  let tag = 0;
  const deliver = (consumer: ConsumerChannel) => {
    const msg = { fields: { deliveryTag: ++tag } } as ConsumeMessage;
    outstanding.add(tag);
    consumer.delivered(msg);
    return msg;
  };
  return { channel, deliver, frames, acked, requeued, outstanding };
}

const endOfTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('ConsumerChannel', () => {
  it('sends the acks of one tick as one multiple ack, at the end of the tick', async () => {
    const broker = brokerChannel();
    const consumer = new ConsumerChannel(broker.channel);
    const msgs = [1, 2, 3].map(() => broker.deliver(consumer));

    for (const m of msgs) consumer.ack(m);
    expect(broker.frames).toEqual([]);

    await endOfTick();
    expect(broker.frames).toEqual(['ack 3 multiple']);
    expect(broker.outstanding.size).toBe(0);
    expect(consumer.unsettled).toBe(0);
  });

  it('acks a lone delivery without the multiple flag', async () => {
    const broker = brokerChannel();
    const consumer = new ConsumerChannel(broker.channel);
    consumer.ack(broker.deliver(consumer));
    await endOfTick();
    expect(broker.frames).toEqual(['ack 1']);
  });

  it('acks deliveries behind a running one singly, so a slow handler holds back no one', async () => {
    const broker = brokerChannel();
    const consumer = new ConsumerChannel(broker.channel);
    const [slow, b, c] = [1, 2, 3].map(() => broker.deliver(consumer));

    consumer.ack(b!);
    consumer.ack(c!);
    await endOfTick();
    expect(broker.frames).toEqual(['ack 2', 'ack 3']);
    expect([...broker.outstanding]).toEqual([1]);

    consumer.ack(slow!);
    await endOfTick();
    expect(broker.frames).toEqual(['ack 2', 'ack 3', 'ack 1']);
  });

  it('requeues at once and never aims a multiple ack at the requeued tag', async () => {
    const broker = brokerChannel();
    const consumer = new ConsumerChannel(broker.channel);
    const [a, b, c] = [1, 2, 3].map(() => broker.deliver(consumer));

    consumer.ack(a!);
    consumer.ack(b!);
    consumer.requeue(c!);
    expect(broker.frames).toEqual(['nack 3']);
    await endOfTick();

    expect(broker.frames).toEqual(['nack 3', 'ack 2 multiple']);
    expect(broker.requeued).toEqual([3]);
    expect(broker.acked.sort()).toEqual([1, 2]);
  });

  it('settles each delivery once, whatever the handler does twice', async () => {
    const broker = brokerChannel();
    const consumer = new ConsumerChannel(broker.channel);
    const [a, b] = [1, 2].map(() => broker.deliver(consumer));

    consumer.ack(a!);
    consumer.ack(a!);
    consumer.requeue(b!);
    consumer.ack(b!);
    await endOfTick();
    consumer.ack(a!);
    await endOfTick();

    expect(broker.frames).toEqual(['nack 2', 'ack 1']);
  });

  it('sends pending acks on flush() without waiting for the tick', () => {
    const broker = brokerChannel();
    const consumer = new ConsumerChannel(broker.channel);
    consumer.ack(broker.deliver(consumer));
    consumer.flush();
    expect(broker.frames).toEqual(['ack 1']);
  });

  it('drops its acks quietly when the channel has closed (the broker redelivers)', async () => {
    const closed = {
      ack: () => {
        throw new Error('Channel closed');
      },
    } as unknown as ConfirmChannel;
    const consumer = new ConsumerChannel(closed);
    const msg = { fields: { deliveryTag: 1 } } as ConsumeMessage;
    consumer.delivered(msg);
    consumer.ack(msg);
    expect(() => consumer.flush()).not.toThrow();
    expect(consumer.unsettled).toBe(0);
  });

  it('acks exactly what was handled, under any order of completion (seeded random runs)', async () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 200; run++) {
      const broker = brokerChannel();
      const consumer = new ConsumerChannel(broker.channel);
      const running: ConsumeMessage[] = [];
      const expectAcked: number[] = [];
      const expectRequeued: number[] = [];
      for (let step = 0; step < 60; step++) {
        const r = random();
        if (r < 0.4 || running.length === 0) running.push(broker.deliver(consumer));
        else {
          const [msg] = running.splice(Math.floor(random() * running.length), 1);
          if (r < 0.9) {
            consumer.ack(msg!);
            expectAcked.push(msg!.fields.deliveryTag);
          } else {
            consumer.requeue(msg!);
            expectRequeued.push(msg!.fields.deliveryTag);
          }
        }
        if (random() < 0.3) await endOfTick();
      }
      await endOfTick();

      const stillRunning = running.map((m) => m.fields.deliveryTag).sort((x, y) => x - y);
      expect([...broker.outstanding].sort((x, y) => x - y)).toEqual(stillRunning);
      expect(broker.acked.sort((x, y) => x - y)).toEqual(expectAcked.sort((x, y) => x - y));
      expect(broker.requeued.sort((x, y) => x - y)).toEqual(expectRequeued.sort((x, y) => x - y));
      expect(consumer.unsettled).toBe(running.length);
    }
  });
});
