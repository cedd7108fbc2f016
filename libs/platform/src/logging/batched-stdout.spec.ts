import { describe, expect, it } from '@jest/globals';
import { BatchedStdout } from './batched-stdout.js';

function recorder() {
  const writes: string[] = [];
  return { writes, out: { write: (text: string) => writes.push(text) } as never };
}

describe('BatchedStdout', () => {
  it('writes the lines of one turn of the event loop in one write, in order, at its end', async () => {
    const { writes, out } = recorder();
    const destination = new BatchedStdout(out);

    destination.write('a\n');
    destination.write('b\n');
    await Promise.resolve(); // microtasks of the same turn join the batch
    destination.write('c\n');
    expect(writes).toEqual([]);

    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['a\nb\nc\n']);

    destination.write('d\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes what is buffered when flushed (the process exits)', () => {
    const { writes, out } = recorder();
    const destination = new BatchedStdout(out);
    destination.write('last words\n');
    destination.flush();
    expect(writes).toEqual(['last words\n']);
    destination.flush();
    expect(writes).toEqual(['last words\n']);
  });
});
