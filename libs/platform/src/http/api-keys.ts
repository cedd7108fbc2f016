import { createHash, timingSafeEqual } from 'node:crypto';

/** What a key may do: `read` its client's data, `write` it too, `admin` everything and everyone's. */
export type ApiKeyRole = 'read' | 'write' | 'admin';

export const API_KEY_ROLES: readonly ApiKeyRole[] = ['read', 'write', 'admin'];

/** One entry of API_KEYS: `<client>:<role>:<key>`. */
export interface ApiKeyEntry {
  client: string;
  role: ApiKeyRole;
  key: string;
}

/** Who a request comes from: the client its key belongs to, and what that key may do. */
export interface ApiClient {
  id: string;
  role: ApiKeyRole;
}

/** Every route's caller when no key is configured (INSECURE_DEV_MODE only). */
export const DEV_CLIENT: ApiClient = Object.freeze({ id: 'dev', role: 'admin' });

/** Does a key of `role` pass a route that needs `required`? Each role includes the ones before it. */
export function roleAllows(role: ApiKeyRole, required: ApiKeyRole): boolean {
  return API_KEY_ROLES.indexOf(role) >= API_KEY_ROLES.indexOf(required);
}

interface Known {
  digest: Buffer;
  client: ApiClient;
}

/**
 * The configured API keys, held as SHA-256 digests and compared in constant time, so neither
 * memory dumps of the comparison nor its timing give a key's prefix away.
 */
export class ApiKeys {
  private readonly keys: Known[];

  constructor(entries: readonly ApiKeyEntry[]) {
    this.keys = entries.map(({ client, role, key }) => ({
      digest: digest(key),
      client: Object.freeze({ id: client, role }),
    }));
  }

  /** No key configured: every route is open (only with INSECURE_DEV_MODE; see service-config). */
  get open(): boolean {
    return this.keys.length === 0;
  }

  /** The client a key belongs to; undefined for a missing or unknown key. */
  identify(given: string | undefined): ApiClient | undefined {
    if (!given) return undefined;
    const key = digest(given);
    let found: ApiClient | undefined;
    // Every candidate is compared, so the time taken does not tell which one matched.
    for (const candidate of this.keys) {
      if (timingSafeEqual(candidate.digest, key)) found = candidate.client;
    }
    return found;
  }
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
