import { createHash, timingSafeEqual } from 'node:crypto';
import type { HttpConfig } from '../config/service-config.js';

export type ApiKeyRole = 'write' | 'admin';
export type ApiKeyCheck = 'ok' | 'missing' | 'unknown' | 'not-admin';

/**
 * The configured API keys, held as SHA-256 digests and compared in constant time, so neither
 * memory dumps of the comparison nor its timing give a key's prefix away.
 */
export class ApiKeys {
  private readonly write: Buffer[];
  private readonly admin: Buffer[];

  constructor(keys: HttpConfig['apiKeys']) {
    this.write = keys.write.map(digest);
    this.admin = keys.admin.map(digest);
  }

  /** No key configured: every route is open (development). */
  get open(): boolean {
    return this.write.length === 0 && this.admin.length === 0;
  }

  /** Admin keys pass everywhere; write keys everywhere but on admin routes. */
  check(given: string | undefined, role: ApiKeyRole): ApiKeyCheck {
    if (this.open) return 'ok';
    if (!given) return 'missing';
    const key = digest(given);
    if (includes(this.admin, key)) return 'ok';
    if (!includes(this.write, key)) return 'unknown';
    return role === 'admin' ? 'not-admin' : 'ok';
  }

  /** A configured key's digest (to count a client by its key), else undefined. */
  known(given: string | undefined): string | undefined {
    if (!given) return undefined;
    const key = digest(given);
    return includes(this.admin, key) || includes(this.write, key) ? key.toString('hex') : undefined;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function includes(keys: readonly Buffer[], key: Buffer): boolean {
  let found = false;
  for (const candidate of keys) found = timingSafeEqual(candidate, key) || found;
  return found;
}
