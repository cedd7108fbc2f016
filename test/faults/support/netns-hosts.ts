import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { alive } from './pids.js';

const run = promisify(execFile);

/**
 * Every namespace of a lab is named `p18-<pid of the test process>-<random>-<role>`: a run
 * removes only its own, and the leftovers of runs whose process is gone (a crash, a kill -9),
 * never those of a run still going on this machine.
 */
const PREFIX = 'p18';
const SUBNET = '10.77.0';
/** The bridge's namespace, and the bridge in it. Each host's port on it is named after the host. */
const SWITCH = 'sw';
const BRIDGE = 'br0';
/** nftables table (bridge family) in the switch namespace holding the cut rules. */
const CUTS = 'cuts';

const NEEDS = `The partition cases need root and the iproute2 and nftables packages (ip, nft):
.ci/run installs them.`;

/** A machine of the lab: a network namespace with one address on the switch. */
export interface Host {
  /** `h1`, `h2`, … or `client`: also the name of its port on the switch. */
  readonly name: string;
  /** The network namespace. */
  readonly ns: string;
  readonly address: string;
}

/**
 * Hosts in network namespaces on a private switch (a Linux bridge in a namespace of its own),
 * nothing of which is visible from the machine's own network: the hosts reach each other and
 * nothing else. A cut is an nftables drop rule on host ports in the switch (silent loss, both
 * ways, as a pulled cable); heal() removes every cut. The client host is one more namespace on
 * the switch, which cuts never name. `ip netns exec` changes only the network: files, unix
 * sockets (PostgreSQL's) and the environment are shared with the machine.
 */
export class NetnsLab {
  /** Labs not destroyed yet: the exit hook removes them. */
  static readonly live = new Set<NetnsLab>();

  private constructor(
    private readonly id: string,
    readonly hosts: readonly Host[],
    readonly client: Host,
  ) {}

  /** `count` hosts h1…hN at 10.77.0.1…N and a client host at 10.77.0.100. */
  static async create(count: number): Promise<NetnsLab> {
    if (process.getuid?.() !== 0) throw new Error(NEEDS);
    await NetnsLab.removeLeftovers();
    const id = `${PREFIX}-${process.pid}-${randomBytes(2).toString('hex')}`;
    const host = (name: string, last: number): Host => ({
      name,
      ns: `${id}-${name}`,
      address: `${SUBNET}.${last}`,
    });
    const hosts = Array.from({ length: count }, (_, i) => host(`h${i + 1}`, i + 1));
    const lab = new NetnsLab(id, hosts, host('client', 100));
    NetnsLab.live.add(lab);
    registerExitHook();
    try {
      await lab.wire();
    } catch (error) {
      lab.destroyNow();
      throw new Error(`${NEEDS}\n${(error as Error).message}`, { cause: error });
    }
    return lab;
  }

  /** The command prefix that runs a program on `host`. */
  static prefix(host: Host): string[] {
    return ['ip', 'netns', 'exec', host.ns];
  }

  /** Runs `command` on `host`; resolves with its stdout, rejects with its stderr. */
  async exec(host: Host, command: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
    return sh('ip', ['netns', 'exec', host.ns, command, ...args], env);
  }

  host(name: string): Host {
    const found = [...this.hosts, this.client].find((h) => h.name === name);
    if (!found) throw new Error(`no host ${name} in this lab`);
    return found;
  }

  /** Cuts `hosts` off the switch: nothing in or out, not even from the client host. */
  async isolate(...hosts: Host[]): Promise<void> {
    for (const h of hosts) {
      await this.nft('add', 'rule', 'bridge', CUTS, 'forward', 'iifname', h.name, 'drop');
      await this.nft('add', 'rule', 'bridge', CUTS, 'forward', 'oifname', h.name, 'drop');
    }
  }

  /**
   * Splits the hosts into two sides that cannot reach each other; the client host still
   * reaches both (a partition between the hosts, not of the clients).
   */
  async split(side: readonly Host[], other: readonly Host[]): Promise<void> {
    for (const a of side) {
      for (const b of other) {
        for (const [from, to] of [
          [a, b],
          [b, a],
        ] as const) {
          await this.nft(
            'add', 'rule', 'bridge', CUTS, 'forward',
            'iifname', from.name, 'oifname', to.name, 'drop',
          ); // prettier-ignore
        }
      }
    }
  }

  /** Removes every cut: the network is whole again. */
  async heal(): Promise<void> {
    await this.nft('flush', 'chain', 'bridge', CUTS, 'forward');
  }

  /** The cut rules in force (`nft list chain`): a witness that a cut is, or is not, there. */
  async cuts(): Promise<string[]> {
    const out = await this.nft('list', 'chain', 'bridge', CUTS, 'forward');
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.endsWith('drop'));
  }

  /** Kills every process left in the lab's namespaces and deletes them (veths go with them). */
  async destroy(): Promise<void> {
    this.destroyNow();
  }

  /** Synchronous, for process exit as well. */
  destroyNow(): void {
    NetnsLab.live.delete(this);
    removeNamespaces(listNamespaces().filter((ns) => ns.startsWith(`${this.id}-`)));
  }

  /**
   * Namespaces of earlier runs whose test process is gone (same name prefix, dead pid): what a
   * crashed run left behind, with whatever still runs in them.
   */
  static async removeLeftovers(): Promise<void> {
    const pattern = new RegExp(`^${PREFIX}-(\\d+)-`);
    const stale = listNamespaces().filter((ns) => {
      const pid = Number(pattern.exec(ns)?.[1] ?? NaN);
      return Number.isFinite(pid) && pid !== process.pid && !alive(pid);
    });
    removeNamespaces(stale);
  }

  private get switchNs(): string {
    return `${this.id}-${SWITCH}`;
  }

  private nft(...args: string[]): Promise<string> {
    return sh('ip', ['netns', 'exec', this.switchNs, 'nft', ...args]);
  }

  private async wire(): Promise<void> {
    const sw = this.switchNs;
    const inSwitch = (...args: string[]) => sh('ip', ['-n', sw, ...args]);
    await sh('ip', ['netns', 'add', sw]);
    await inSwitch('link', 'add', BRIDGE, 'type', 'bridge');
    await inSwitch('link', 'set', BRIDGE, 'up');
    for (const h of [...this.hosts, this.client]) {
      await sh('ip', ['netns', 'add', h.ns]);
      // One veth per host: eth0 inside the host, its other end (named after the host) a port
      // of the bridge. Interface names live per namespace, so the short names never collide.
      await sh('ip', [
        'link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.name, 'netns', sw,
      ]); // prettier-ignore
      await inSwitch('link', 'set', h.name, 'master', BRIDGE);
      await inSwitch('link', 'set', h.name, 'up');
      const inHost = (...args: string[]) => sh('ip', ['-n', h.ns, ...args]);
      await inHost('addr', 'add', `${h.address}/24`, 'dev', 'eth0');
      await inHost('link', 'set', 'eth0', 'up');
      await inHost('link', 'set', 'lo', 'up'); // epmd and the CLI talk over localhost
    }
    await this.nft('add', 'table', 'bridge', CUTS);
    await this.nft(
      'add', 'chain', 'bridge', CUTS, 'forward',
      '{ type filter hook forward priority 0; policy accept; }',
    ); // prettier-ignore
  }
}

async function sh(command: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
  try {
    const { stdout } = await run(command, args, { env: env ?? process.env, timeout: 60_000 });
    return stdout;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')}: ${stderr?.trim() || message}`, {
      cause: error,
    });
  }
}

function listNamespaces(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'])
      .toString()
      .split('\n')
      .map((line) => line.split(' ')[0]!)
      .filter((ns) => ns.startsWith(`${PREFIX}-`));
  } catch {
    return [];
  }
}

/**
 * Kills what runs in each namespace (a deleted namespace lives on while a process holds it, and
 * so would its RabbitMQ node), then deletes it.
 */
function removeNamespaces(namespaces: readonly string[]): void {
  for (const ns of namespaces) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const pids = pidsIn(ns);
      if (pids.length === 0) break;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      execFileSync('sleep', ['0.1']);
    }
    try {
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

function pidsIn(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

let hooked = false;
function registerExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const lab of NetnsLab.live) lab.destroyNow();
  });
}

/**
 * An HTTP request made on `host` (curl in its namespace): how the test, which is not on the
 * switch, reaches a service there; a service's own host reaches it whatever is cut. Resolves
 * with the status (0 when nothing answered) and the body.
 */
export async function httpOn(
  host: Host,
  method: string,
  url: string,
  body?: unknown,
  timeoutMs = 2_000,
): Promise<{ status: number; body: string }> {
  const args = ['-s', '-X', method, '--max-time', String(timeoutMs / 1000), '-w', '\n%{http_code}'];
  if (body !== undefined) {
    args.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
  }
  const out = await run('ip', ['netns', 'exec', host.ns, 'curl', ...args, url]).then(
    (r) => r.stdout,
    (error: { stdout?: string }) => error.stdout ?? '\n0',
  );
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)) || 0, body: out.slice(0, cut) };
}
