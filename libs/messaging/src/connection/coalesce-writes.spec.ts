import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { amqplibSocket, coalesceWrites } from './coalesce-writes.js';

/** A socket stand-in that records how its buffers reach the "kernel": one entry per syscall. */
function recordingSocket() {
  const syscalls: string[][] = [];
  const socket = new Writable({
    write(chunk: Buffer, _encoding, done) {
      syscalls.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      syscalls.push(chunks.map(({ chunk }) => (chunk as Buffer).toString()));
      done();
    },
  });
  return { socket, syscalls };
}

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('coalesceWrites', () => {
  it('sends what is written in one tick as one writev', async () => {
    const { socket, syscalls } = recordingSocket();
    coalesceWrites(socket);

    socket.write('a');
    socket.write('b');
    socket.write('c');
    expect(syscalls).toEqual([]);

    await nextTick();
    expect(syscalls).toEqual([['a', 'b', 'c']]);
  });

  it('keeps writes of different ticks apart and in order, and holds none past its tick', async () => {
    const { socket, syscalls } = recordingSocket();
    coalesceWrites(socket);

    socket.write('a');
    await nextTick();
    socket.write('b');
    socket.write('c');
    await nextTick();

    expect(syscalls).toEqual([['a'], ['b', 'c']]);
    expect(socket.writableCorked).toBe(0);
  });

  it('still reports back-pressure and calls each write callback', async () => {
    const { socket } = recordingSocket();
    coalesceWrites(socket);
    const done: number[] = [];

    const big = Buffer.alloc(socket.writableHighWaterMark);
    expect(socket.write('small', () => done.push(1))).toBe(true);
    expect(socket.write(big, () => done.push(2))).toBe(false);
    await new Promise((resolve) => socket.once('drain', resolve));

    expect(done).toEqual([1, 2]);
  });
});

describe('amqplibSocket', () => {
  it('finds the stream of an amqplib connection model, and nothing where there is none', () => {
    const stream = new PassThrough();
    expect(amqplibSocket({ connection: { stream } })).toBe(stream);
    expect(amqplibSocket({ connection: {} })).toBeUndefined();
    expect(amqplibSocket({ connection: { stream: {} } })).toBeUndefined();
    expect(amqplibSocket(undefined)).toBeUndefined();
  });
});
