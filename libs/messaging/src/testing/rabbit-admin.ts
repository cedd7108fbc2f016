import { randomBytes } from 'node:crypto';

export interface QueueInfo {
  name: string;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
  arguments: Record<string, unknown>;
}

/**
 * A thin client of the RabbitMQ management HTTP API, for tests and tools: isolated vhosts
 * and queue depths. Needs the `rabbitmq_management` plugin.
 */
export class RabbitAdmin {
  private readonly base: string;
  private readonly auth: string;
  /** The management user, who also gets every right on the vhosts it creates. */
  readonly username: string;

  constructor(
    managementUrl = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672',
  ) {
    const url = new URL(managementUrl);
    this.username = decodeURIComponent(url.username);
    this.auth = `Basic ${Buffer.from(`${this.username}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = url.password = '';
    this.base = url.toString().replace(/\/$/, '');
  }

  /** A fresh vhost, named `<prefix>-<random>`, on which the management user has all rights. */
  async createVhost(prefix: string, user = this.username): Promise<string> {
    const vhost = `${prefix}-${randomBytes(4).toString('hex')}`;
    await this.call('PUT', `/api/vhosts/${enc(vhost)}`);
    await this.call('PUT', `/api/permissions/${enc(vhost)}/${enc(user)}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    return vhost;
  }

  /** Imports a definitions document (users, vhosts, permissions…), as `rabbitmqctl import_definitions` does. */
  async importDefinitions(definitions: unknown): Promise<void> {
    await this.call('POST', '/api/definitions', definitions);
  }

  async deleteUser(name: string): Promise<void> {
    await this.call('DELETE', `/api/users/${enc(name)}`, undefined, [404]);
  }

  async deleteVhost(vhost: string): Promise<void> {
    await this.call('DELETE', `/api/vhosts/${enc(vhost)}`, undefined, [404]);
  }

  async queue(vhost: string, name: string): Promise<QueueInfo | undefined> {
    return this.call<QueueInfo>('GET', `/api/queues/${enc(vhost)}/${enc(name)}`, undefined, [404]);
  }

  async queues(vhost: string): Promise<QueueInfo[]> {
    return (await this.call<QueueInfo[]>('GET', `/api/queues/${enc(vhost)}`)) ?? [];
  }

  /** The client connections open on `vhost`, by name. */
  async connections(vhost: string): Promise<string[]> {
    const list = await this.call<{ name: string }[]>(
      'GET',
      `/api/vhosts/${enc(vhost)}/connections`,
    );
    return (list ?? []).map((c) => c.name);
  }

  /** Closes every client connection on `vhost` (the broker sends CONNECTION_FORCED); returns how many. */
  async closeConnections(vhost: string): Promise<number> {
    const names = await this.connections(vhost);
    await Promise.all(
      names.map((name) => this.call('DELETE', `/api/connections/${enc(name)}`, undefined, [404])),
    );
    return names.length;
  }

  async ping(): Promise<void> {
    await this.call('GET', '/api/overview');
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    allowed: number[] = [],
  ): Promise<T | undefined> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: this.auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (allowed.includes(res.status)) return undefined;
    if (!res.ok)
      throw new Error(`RabbitMQ management ${method} ${path}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return text ? (JSON.parse(text) as T) : undefined;
  }
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

/** `amqp://u:p@host:port` + vhost → URL with that vhost in its path. */
export function withVhost(amqpUrl: string, vhost: string): string {
  const url = new URL(amqpUrl);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  return url.toString();
}
