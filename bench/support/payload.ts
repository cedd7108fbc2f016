import { defineEvent, defineRpc } from '@app/contracts';
import { z } from 'zod';

/** The body of every benchmark message: `{"id":…,"text":"xxx…"}`, padded to the chosen size. */
export interface BenchBody {
  id: number;
  text: string;
}

const BenchBodySchema = z.object({ id: z.number().int(), text: z.string() });

/** The RPC every variant answers with an echo of the request. */
export const BenchEcho = defineRpc('bench.echo', {
  owner: 'bench',
  callers: ['caller'],
  version: 1,
  description: 'Benchmark: answers with the request.',
  request: BenchBodySchema,
  response: BenchBodySchema,
});

/** The event every variant publishes and consumes. */
export const BenchHappened = defineEvent('bench.happened', {
  owner: 'bench',
  version: 1,
  description: 'Benchmark: counted by the consumer.',
  payload: BenchBodySchema,
});

/** Queue names of the variants that do not get theirs from libs/messaging (raw, Nest RMQ). */
export const BenchQueues = { rpc: 'bench.rpc', events: 'bench.events' } as const;

/** A body whose JSON is exactly `size` bytes (ids up to 6 digits). */
export function makeBody(size: number): BenchBody {
  const overhead = JSON.stringify({ id: 100_000, text: '' }).length;
  if (size < overhead) throw new Error(`message size must be at least ${overhead} bytes`);
  return { id: 100_000, text: 'x'.repeat(size - overhead) };
}
