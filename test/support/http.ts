export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** The keys TestSystem configures: two ordinary clients (`web`, `partner`) and an admin. */
export const testApiKeys = {
  read: 'test-read-key-0001',
  write: 'test-write-key-0001',
  admin: 'test-admin-key-0001',
  /** Another client's write key: `partner`'s orders are not `web`'s. */
  partner: 'test-partner-key-0001',
};

/** API_KEYS for those keys (`<client>:<role>:<key>`). */
export const testApiKeysEnv = [
  `web:read:${testApiKeys.read}`,
  `web:write:${testApiKeys.write}`,
  `ops:admin:${testApiKeys.admin}`,
  `partner:write:${testApiKeys.partner}`,
].join(',');

/**
 * fetch with JSON in and out, for readable assertions. Sends the admin API key, which every
 * guarded endpoint takes; a header given as '' is not sent (`{ 'x-api-key': '' }`: no key).
 */
export async function http<T = any>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<HttpResult<T>> {
  const all: Record<string, string> = {
    'x-api-key': testApiKeys.admin,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...headers,
  };
  const res = await fetch(url, {
    method,
    headers: Object.fromEntries(Object.entries(all).filter(([, value]) => value !== '')),
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}
