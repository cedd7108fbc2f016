import { describe, expect, it } from '@jest/globals';
import type { Channel } from 'amqplib';
import { declareServiceTopology, type ServiceTopology, serviceQueues } from './declare.js';

/** Records the queues a topology declaration asserts. */
function recordingChannel(): { ch: Channel; queues: string[] } {
  const queues: string[] = [];
  const ch = {
    assertExchange: async () => ({}),
    assertQueue: async (queue: string) => {
      queues.push(queue);
      return { queue, messageCount: 0, consumerCount: 0 };
    },
    bindQueue: async () => ({}),
  } as unknown as Channel;
  return { ch, queues };
}

const base: ServiceTopology = {
  service: 'inventory',
  queueType: 'classic',
  rpc: true,
  eventBindings: ['order.cancelled'],
  retryDelaysMs: [1_000, 60_000],
};

describe('serviceQueues', () => {
  it.each([
    ['RPC and events', base],
    ['RPC only', { ...base, eventBindings: [] }],
    ['events only', { ...base, rpc: false }],
  ])('names exactly the queues declareServiceTopology declares (%s)', async (_, topology) => {
    const { ch, queues } = recordingChannel();
    await declareServiceTopology(ch, topology);
    expect(serviceQueues(topology)).toEqual(queues);
  });

  it('names the work, delay and dead-letter queues', () => {
    expect(serviceQueues(base)).toEqual([
      'inventory.dlq',
      'inventory.rpc',
      'inventory.events',
      'inventory.events.retry.1s',
      'inventory.events.retry.1m',
    ]);
  });

  it('is empty for a service that consumes nothing (it declares nothing)', () => {
    expect(serviceQueues({ ...base, rpc: false, eventBindings: [] })).toEqual([]);
  });
});
