/**
 * The credentials this repository documents for its demo (docker-compose.yml, the README):
 * public, so a service refuses them unless INSECURE_DEV_MODE says this is a developer's
 * machine. test/deploy checks that every default credential of the compose files is listed.
 */
export const DEMO_API_KEYS: readonly string[] = [
  'local-dev-read-key-0001',
  'local-dev-api-key-0001',
  'local-dev-admin-key-0001',
];

/** Besides `<user>-secret`, the password every broker user of the definitions file has. */
export const DEMO_PASSWORDS: readonly string[] = ['admin-secret', 'shop'];

/** A documented demo password: `<user>-secret` (ops/rabbitmq/definitions.json) or a listed one. */
export function isDemoPassword(user: string, password: string): boolean {
  return password === `${user}-secret` || DEMO_PASSWORDS.includes(password);
}

interface SecuritySettings {
  API_KEYS?: readonly { client: string; key: string }[];
  RABBITMQ_URL: readonly string[];
  DATABASE_URL: string;
}

/**
 * What makes a configuration unfit outside a developer's machine: no API keys (every route
 * open) or a demo credential. Empty when none; the service refuses to start otherwise, unless
 * INSECURE_DEV_MODE=true.
 */
export function insecureSettings(env: SecuritySettings): string[] {
  const problems: string[] = [];
  const hint = '(INSECURE_DEV_MODE=true allows it on a developer’s machine)';
  if (!env.API_KEYS?.length) {
    problems.push(
      `API_KEYS: is required: every route but /health needs a key, as <client>:<role>:<key> ${hint}`,
    );
  }
  for (const { client, key } of env.API_KEYS ?? []) {
    if (DEMO_API_KEYS.includes(key)) {
      problems.push(`API_KEYS: the key of client "${client}" is a documented demo key ${hint}`);
    }
  }
  env.RABBITMQ_URL.forEach((url, i) => {
    if (isDemoPassword(...credentialsOf(url))) {
      problems.push(`RABBITMQ_URL${i > 0 ? `.${i}` : ''}: uses a documented demo password ${hint}`);
    }
  });
  if (isDemoPassword(...credentialsOf(env.DATABASE_URL))) {
    problems.push(`DATABASE_URL: uses a documented demo password ${hint}`);
  }
  return problems;
}

/** User and password of a connection URL ('' for what it lacks). */
export function credentialsOf(url: string): [user: string, password: string] {
  try {
    const { username, password } = new URL(url);
    return [decodeURIComponent(username), decodeURIComponent(password)];
  } catch {
    return ['', ''];
  }
}
