// The README's "only Docker" way to run the e2e suites, checked against the files compose
// loads: the user it names can log in to the compose broker and create the suites' vhosts, and
// the database URL matches the compose PostgreSQL.
import { describe, expect, it } from '@jest/globals';
import { passwordMatches } from '../../tools/new-service/broker-user.js';
import { brokerDefinitions, published, read, service } from './deploy-files.js';

/** The README's shell block that starts the compose broker for the tests, as lines. */
const block = (() => {
  const blocks = [...read('README.md').matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const found = blocks.find((b) => /docker compose run .*postgres/.test(b));
  if (!found) throw new Error('README.md has no shell block that runs the compose postgres');
  return found.split('\n');
})();
const exported = Object.fromEntries(
  block.flatMap((line) => {
    const match = /^export (\w+)=(\S+)$/.exec(line.trim());
    return match ? [[match[1], match[2]]] : [];
  }),
);
const url = (name: string) => new URL(exported[name] ?? 'missing:');

describe("README: the e2e suites against compose's broker and database", () => {
  it('sets the three URLs the test setup reads', () => {
    expect(Object.keys(exported).sort()).toEqual([
      'DATABASE_URL',
      'RABBITMQ_MANAGEMENT_URL',
      'RABBITMQ_URL',
    ]);
  });

  it('connects as a broker administrator with its compose password, on a vhost it may use', () => {
    const amqp = url('RABBITMQ_URL');
    const user = brokerDefinitions.users.find((u) => u.name === decodeURIComponent(amqp.username));
    // The management API creates each suite's vhost: only an administrator may.
    expect(user?.tags).toContain('administrator');
    expect(passwordMatches(user?.password_hash ?? '', decodeURIComponent(amqp.password))).toBe(
      true,
    );
    // The broker has no vhost `/`: the start-up check connects to the one in the URL.
    const vhost = decodeURIComponent(amqp.pathname.slice(1));
    expect(brokerDefinitions.vhosts.map((v) => v.name)).toContain(vhost);
    expect(brokerDefinitions.permissions).toContainEqual(
      expect.objectContaining({ user: user?.name, vhost, configure: '.*', read: '.*' }),
    );
    expect(published('rabbitmq')).toContain(`${amqp.port}:5672`);
  });

  it('uses the same user on the management API, on its published port', () => {
    const amqp = url('RABBITMQ_URL');
    const management = url('RABBITMQ_MANAGEMENT_URL');
    expect([management.username, management.password]).toEqual([amqp.username, amqp.password]);
    expect(published('rabbitmq')).toContain(`${management.port}:15672`);
  });

  it('reaches the compose PostgreSQL on the port the README publishes, as its owner', () => {
    const database = url('DATABASE_URL');
    const env = service('postgres').environment ?? {};
    expect(decodeURIComponent(database.username)).toBe(env.POSTGRES_USER);
    expect(decodeURIComponent(database.password)).toBe(env.POSTGRES_PASSWORD);
    expect(database.pathname).toBe(`/${env.POSTGRES_DB}`);
    expect(block.join('\n')).toContain(`--publish ${database.port}:5432 postgres`);
    expect(block.join('\n')).toMatch(/docker compose up -d rabbitmq\b/);
  });
});
