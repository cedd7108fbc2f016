import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { waitFor } from '@app/messaging/testing';
import type { ReceivedMail } from '../../support/smtp.js';
import type { ClientCommand, ClientEvent } from './client-host-script.js';
import { type Host, NetnsLab } from './netns-hosts.js';
import type { AcceptedOrder, FailedRequest, OrderLoadOptions } from './order-load.js';

const REGISTER = new URL('../../support/ts-register.mjs', import.meta.url).pathname;
const SCRIPT = new URL('./client-host-script.ts', import.meta.url).pathname;

/**
 * The client host seen from the test: client-host-script.ts running in the lab's client
 * namespace, with the SMTP sink and the order load it runs there mirrored here (`mails`, and
 * each load's `accepted` and `failures`) as its events arrive, so the invariants read them as
 * they read an in-process sink and load.
 */
export class ClientHost {
  readonly mails: ReceivedMail[] = [];
  refused = 0;
  private load?: RemoteLoad;
  private readonly lines: string[] = [];
  private stopped?: () => void;

  private constructor(
    readonly host: Host,
    private readonly child: ChildProcess,
    readonly smtpUrl: string,
  ) {}

  static async start(host: Host): Promise<ClientHost> {
    const [command, ...prefix] = NetnsLab.prefix(host);
    const child = spawn(command!, [...prefix, process.execPath, '--import', REGISTER, SCRIPT], {
      env: { ...process.env, CLIENT_ADDRESS: host.address },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // eslint-disable-next-line prefer-const -- assigned once ready, read by the handlers before
    let client: ClientHost | undefined;
    const early: string[] = [];
    const ready = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const event = JSON.parse(line) as ClientEvent;
        if (event.type === 'ready') resolve(event.smtpUrl);
        else client?.receive(event);
      });
      createInterface({ input: child.stderr! }).on('line', (line) => {
        early.push(line);
        client?.lines.push(line);
      });
      child.once('exit', (code) =>
        reject(new Error(`the client host exited (${code}): ${early.join('\n')}`)),
      );
    });
    const smtpUrl = await ready;
    client = new ClientHost(host, child, smtpUrl);
    return client;
  }

  /** Starts placing orders at `ordersUrl` (one load at a time). */
  startLoad(ordersUrl: string, skus: readonly string[], options?: OrderLoadOptions): RemoteLoad {
    if (this.load) throw new Error('a load is still running on the client host');
    this.load = new RemoteLoad(() => this.stopLoad());
    this.send({ op: 'load', ordersUrl, skus: [...skus], options });
    return this.load;
  }

  /** What the client host printed on stderr (its errors). */
  logs(): string {
    return this.lines.join('\n');
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }

  private async stopLoad(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.stopped = resolve));
    this.send({ op: 'stop' });
    await done;
    this.load = undefined;
  }

  private send(command: ClientCommand): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  private receive(event: ClientEvent): void {
    if (event.type === 'mail') this.mails.push(event.mail);
    else if (event.type === 'refused') this.refused = event.count;
    else if (event.type === 'accepted') this.load?.accepted.push(event.order);
    else if (event.type === 'failed') this.load?.failures.push(event.failure);
    else if (event.type === 'stopped') this.stopped?.();
    else if (event.type === 'error') this.lines.push(`client host: ${event.message}`);
  }
}

/** An order load running on the client host, as OrderLoad's interface. */
export class RemoteLoad {
  readonly accepted: AcceptedOrder[] = [];
  readonly failures: FailedRequest[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly stopper: () => Promise<void>) {}

  /** Waits until `count` more orders than now have been confirmed. */
  async waitForConfirmed(count: number, timeoutMs = 30_000): Promise<void> {
    const confirmed = () => this.accepted.filter((o) => o.status === 'CONFIRMED').length;
    const target = confirmed() + count;
    await waitFor(`${count} more confirmed orders`, () => confirmed() >= target, {
      timeoutMs,
      intervalMs: 50,
    });
  }

  /** Stops placing orders; resolves once the requests in flight have ended and been reported. */
  stop(): Promise<void> {
    this.stopping ??= this.stopper();
    return this.stopping;
  }
}
