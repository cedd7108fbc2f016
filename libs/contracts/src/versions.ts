import type { MessageContract } from './define.js';

/**
 * Checks that `contracts` are versions of one message: same name and kind, each version
 * once. Returns them oldest first. Handlers that accept several versions call this at
 * decoration time, so a mistake fails at start-up, not on the first message.
 */
export function versionsOf<C extends MessageContract>(contracts: readonly C[]): C[] {
  const [first] = contracts;
  if (!first) throw new Error('A handler needs at least one contract');
  for (const c of contracts) {
    if (c.name !== first.name || c.kind !== first.kind) {
      throw new Error(
        `A handler takes versions of one message: got ${first.kind} ${first.name} and ${c.kind} ${c.name}`,
      );
    }
  }
  const sorted = [...contracts].sort((a, b) => a.version - b.version);
  const repeated = sorted.find((c, i) => i > 0 && sorted[i - 1]!.version === c.version);
  if (repeated) throw new Error(`${first.name} v${repeated.version} is listed twice`);
  return sorted;
}

/**
 * The contract to read a message of `version` with, from versions sorted oldest first: that
 * version if accepted; else the newest accepted one older than it (a tolerant reader: a v2
 * body that keeps v1's fields is still read by a v1 consumer); else the oldest. A message
 * without a version header is read with the oldest.
 */
export function contractForVersion<C extends MessageContract>(
  sorted: readonly C[],
  version: number | undefined,
): C {
  if (version === undefined) return sorted[0]!;
  let chosen = sorted[0]!;
  for (const c of sorted) if (c.version <= version) chosen = c;
  return chosen;
}
