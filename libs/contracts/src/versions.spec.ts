import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { defineEvent, defineRpc } from './define.js';
import { contractForVersion, versionsOf } from './versions.js';

const v1 = defineEvent('price.changed', {
  owner: 'price',
  version: 1,
  description: 'v1',
  payload: z.object({ sku: z.string(), amount: z.number() }),
});
const v2 = defineEvent('price.changed', {
  owner: 'price',
  version: 2,
  description: 'v2',
  payload: z.object({ sku: z.string(), amountCents: z.number().int() }),
});
const v4 = defineEvent('price.changed', {
  owner: 'price',
  version: 4,
  description: 'v4',
  payload: z.object({ sku: z.string() }),
});

describe('versionsOf', () => {
  it('returns the versions of one message oldest first', () => {
    expect(versionsOf([v4, v1, v2])).toEqual([v1, v2, v4]);
  });

  it('refuses contracts of different messages', () => {
    const other = defineEvent('price.dropped', {
      owner: 'price',
      version: 1,
      description: 'x',
      payload: z.object({}),
    });

    expect(() => versionsOf([v1, other])).toThrow(/price.changed and event price.dropped/);
  });

  it('refuses an RPC and an event of the same name', () => {
    const rpc = defineRpc('price.changed', {
      owner: 'price',
      callers: ['caller'],
      version: 3,
      description: 'x',
      request: z.object({}),
      response: z.object({}),
    });

    expect(() => versionsOf<typeof v1 | typeof rpc>([v1, rpc])).toThrow(
      /event price.changed and rpc/,
    );
  });

  it('refuses a version listed twice', () => {
    expect(() => versionsOf([v1, v2, { ...v2 }])).toThrow('price.changed v2 is listed twice');
  });

  it('refuses an empty list', () => {
    expect(() => versionsOf([])).toThrow(/at least one/);
  });
});

describe('contractForVersion', () => {
  const accepted = versionsOf([v1, v2, v4]);

  it.each([
    [1, 1],
    [2, 2],
    [4, 4],
  ])('reads a v%i message with the v%i contract', (version, expected) => {
    expect(contractForVersion(accepted, version).version).toBe(expected);
  });

  it('reads a version it does not know with the newest older one it knows', () => {
    expect(contractForVersion(accepted, 3)).toBe(v2);
    expect(contractForVersion(accepted, 9)).toBe(v4);
  });

  it('reads a version older than all it knows with its oldest', () => {
    expect(contractForVersion(versionsOf([v2, v4]), 1)).toBe(v2);
  });

  it('reads a message without a version header with the oldest', () => {
    expect(contractForVersion(accepted, undefined)).toBe(v1);
  });
});
