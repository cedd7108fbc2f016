/** Acks per consuming process, per queue: `{ 'inventory.rpc': { 'inventory@4711': 52 } }`. */
export type AcksPerConsumer = Record<string, Record<string, number>>;

interface Consumer {
  queue: { name: string };
  channel_details: { name: string; connection_name: string };
}
interface Channel {
  name: string;
  message_stats?: { ack?: number };
}
interface Connection {
  name: string;
  client_properties?: { connection_name?: string };
}

/**
 * How many messages each consumer process acked, from the broker's own statistics (management
 * API): every consumer of ours has a channel of its own, and every process names its
 * connection `<service>@<pid>`. So the evidence of who did the work needs nothing from the
 * services themselves. Statistics refresh every `collect_statistics_interval` (500 ms on the
 * private broker), and vanish with the channel: read them while the consumers run.
 */
export async function acksPerConsumer(
  managementUrl: string,
  vhost: string,
): Promise<AcksPerConsumer> {
  const v = encodeURIComponent(vhost);
  const [consumers, channels, connections] = await Promise.all([
    get<Consumer[]>(managementUrl, `/api/consumers/${v}`),
    get<Channel[]>(managementUrl, `/api/vhosts/${v}/channels?columns=name,message_stats`),
    get<Connection[]>(managementUrl, `/api/vhosts/${v}/connections?columns=name,client_properties`),
  ]);
  const acks = new Map(channels.map((c) => [c.name, c.message_stats?.ack ?? 0]));
  const process = new Map(
    connections.map((c) => [c.name, c.client_properties?.connection_name ?? c.name]),
  );
  const result: AcksPerConsumer = {};
  for (const { queue, channel_details: channel } of consumers) {
    const who = process.get(channel.connection_name) ?? channel.connection_name;
    const perQueue = (result[queue.name] ??= {});
    perQueue[who] = (perQueue[who] ?? 0) + (acks.get(channel.name) ?? 0);
  }
  return result;
}

async function get<T>(managementUrl: string, path: string): Promise<T> {
  const url = new URL(managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  ).toString('base64');
  const res = await fetch(`${url.origin}${path}`, { headers: { authorization: `Basic ${auth}` } });
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
