import { eventsQueue, rpcQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import type { RemoteLoad } from './client-host.js';
import { assertNothingLostNothingTwice, type Outcome } from './invariants.js';
import type { Host } from './netns-hosts.js';
import { tally, type Tally } from './partition-tally.js';
import type { PartitionSystem } from './partition-system.js';
import type { ClusterView, RabbitNode } from './partitioned-cluster.js';

/** How long a cut lasts: past the ~10–12 s net_ticktime detection, and the pause after it. */
export const CUT_MS = 20_000;
/**
 * `PARTITION_FAULT=noop` replaces every cut with nothing, to prove each case fails on its
 * witness when no partition happens (docs/reliability.md).
 */
const NOOP = process.env.PARTITION_FAULT === 'noop';

export interface PartitionFault {
  /** The case, as the report and the results file name it. */
  name: string;
  /** The hosts on the small side. */
  minority: readonly Host[];
  /**
   * `isolate`: the minority hosts lose the switch (the client host cannot reach them either);
   * `split`: the two sides lose each other, the client host still reaches both.
   */
  kind: 'isolate' | 'split';
}

/** What a case measured, for the report and the results file. */
export interface CaseResult {
  name: string;
  handling: string;
  /** Cut → the majority no longer counts the minority as running. */
  detectedMs: number;
  /** Cut → the minority node paused (pause_minority only). */
  pausedMs?: number;
  /** Heal → every node runs and sees all the others, no partition recorded. */
  healthyMs: number;
  /** Nodes an operator had to restart after the heal (`ignore`: the partition stays). */
  restarted: string[];
  /** Heal → cluster healthy, every service ready and an order placed after the heal confirmed. */
  recoveredMs: number;
  /** Longest time without a confirmed order, from the cut on. */
  longestGapMs: number;
  /** Cut → the first order placed after the cut that was confirmed (the flow works again). */
  firstConfirmedAfterCutMs?: number;
  /** The node leading each work queue when the cut came. */
  leaders: Record<string, string>;
  /** Per service instance: readiness answers during the cut, and its warnings. */
  services: Record<string, { ready: number[]; warnings: string[] }>;
  outcome?: Outcome;
  tally?: Tally;
  /** The invariant that failed, if one did. */
  failure?: string;
}

const SKU_STOCK = 10_000;
/** The queues every order passes through. */
const WORK_QUEUES = [rpcQueue('inventory'), eventsQueue('inventory'), eventsQueue('notification')];

/**
 * One partition case under order load from the client host: the cluster and services are
 * healthy first; orders flow; the cut; the witness (asserted before healing: the nodes' own
 * view); the cut held for CUT_MS; the heal; recovery; then the invariants. `before` runs
 * first (e.g. to move the queue leaders).
 */
export async function partitionCase(
  system: PartitionSystem,
  fault: PartitionFault,
  sku: string,
  /** Gets the case's result as soon as the partition is over, also if an invariant then fails. */
  record: (result: CaseResult) => void,
): Promise<CaseResult> {
  const { cluster } = system;
  const { lab } = cluster;
  await healthy(system);
  const stock = { [`${sku}-A`]: SKU_STOCK, [`${sku}-B`]: SKU_STOCK, [`${sku}-SCARCE`]: 12 };
  for (const [name, units] of Object.entries(stock)) await system.setStock(name, units);
  const load = system.startLoad(Object.keys(stock), { max: 2_000, concurrency: 2, paceMs: 200 });
  let result: CaseResult | undefined;
  let ready: ReturnType<typeof sampleReadiness> | undefined;
  try {
    await load.waitForConfirmed(4);
    const minority = fault.minority.map((h) => cluster.node(h));
    const majority = cluster.nodes.filter((n) => !minority.includes(n));
    const leaders = Object.fromEntries(
      (await cluster.quorumQueues(system.vhost))
        .filter((q) => WORK_QUEUES.includes(q.name))
        .map((q) => [q.name, q.leader]),
    );
    const cutAt = Date.now();
    if (!NOOP) {
      if (fault.kind === 'isolate') await lab.isolate(...fault.minority);
      else
        await lab.split(
          fault.minority,
          lab.hosts.filter((h) => !fault.minority.includes(h)),
        );
    }
    ready = sampleReadiness(system);
    // The witness: the nodes' own view, before anything heals.
    const seen = await witnessPartition(system, minority, majority);
    const detectedMs = seen.at - cutAt;
    const pausedMs =
      cluster.handling === 'pause_minority'
        ? (await waitFor(
            `${minority.map((n) => n.name).join(', ')} to pause (pause_minority)`,
            async () => {
              const views = await Promise.all(minority.map((n) => cluster.view(n)));
              return views.every((v) => !v.appRunning) && Date.now();
            },
            { timeoutMs: CUT_MS, intervalMs: 500 },
          )) - cutAt
        : undefined;
    await sleepUntil(cutAt + CUT_MS);
    const services = await ready.stop();
    await lab.heal();
    const healAt = Date.now();
    const { healthyAt, restarted } = await healedCluster(system);
    await system.waitReady(60_000);
    const firstAfter = await waitFor(
      'an order placed after the heal to be confirmed',
      () => firstConfirmedAfter(load, healAt),
      { timeoutMs: 60_000 },
    );
    const recoveredAt = Math.max(healthyAt, firstAfter, Date.now());
    result = {
      name: fault.name,
      handling: cluster.handling,
      detectedMs,
      pausedMs,
      healthyMs: healthyAt - healAt,
      restarted,
      recoveredMs: recoveredAt - healAt,
      longestGapMs: longestGap(load, cutAt),
      firstConfirmedAfterCutMs: (firstConfirmedAfter(load, cutAt) ?? NaN) - cutAt,
      leaders,
      services: withWarnings(system, services, cutAt, recoveredAt),
    };
    record(result);
    await load.waitForConfirmed(4, 60_000);
    await load.stop();
    try {
      result.outcome = await assertNothingLostNothingTwice(system, load, {
        stock,
        faultWindow: { from: cutAt, to: recoveredAt },
      });
    } catch (error) {
      result.failure = (error as Error).message.split('\n')[0];
      throw error;
    } finally {
      result.tally = await tally(system, load, stock);
      report(result);
    }
    return result;
  } finally {
    await ready?.stop(); // also when the witness failed: its polling would keep jest alive
    await load.stop();
  }
}

/**
 * The nodes' own view of the partition: every majority node no longer counts the minority
 * nodes as running, and each minority node either paused (pause_minority) or counts none of
 * the majority. Fails when that is not seen within CUT_MS (no partition happened).
 */
async function witnessPartition(
  system: PartitionSystem,
  minority: readonly RabbitNode[],
  majority: readonly RabbitNode[],
): Promise<{ at: number; views: Map<RabbitNode, ClusterView> }> {
  const names = (nodes: readonly RabbitNode[]) => nodes.map((n) => n.name);
  let last = '';
  return waitFor(
    `the nodes to see the partition ${names(minority).join(', ')} | ${names(majority).join(', ')}`,
    async () => {
      const views = await system.cluster.views();
      last = JSON.stringify([...views].map(([n, v]) => [n.name, v]));
      const split = [...views].every(([node, view]) => {
        const others = minority.includes(node) ? majority : minority;
        const blind = others.every((o) => !view.running.includes(o.name));
        return blind || (minority.includes(node) && !view.appRunning);
      });
      return split && { at: Date.now(), views };
    },
    { timeoutMs: CUT_MS, intervalMs: 250 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}; last views: ${last}`, { cause: error });
  });
}

/**
 * After the heal: the cluster whole again. Under `ignore` the partition outlives the network
 * (PARTITIONS.md), so after a while the operator's remedy runs: restart the minority's app.
 */
async function healedCluster(
  system: PartitionSystem,
): Promise<{ healthyAt: number; restarted: string[] }> {
  const { cluster } = system;
  const patience = cluster.handling === 'ignore' ? 15_000 : 90_000;
  try {
    await cluster.waitHealthy(patience);
    return { healthyAt: Date.now(), restarted: [] };
  } catch (error) {
    if (cluster.handling !== 'ignore') throw error;
  }
  const restarted = await cluster.restartPartitioned();
  await cluster.waitHealthy(60_000);
  return { healthyAt: Date.now(), restarted };
}

/** Healthy before a case: every node whole, every quorum queue on 3 members, every service ready. */
export async function healthy(system: PartitionSystem): Promise<void> {
  await system.cluster.waitHealthy();
  await waitFor(
    'every quorum queue to have all 3 members online',
    async () => {
      const queues = await system.cluster.quorumQueues(system.vhost);
      return queues.length > 0 && queues.every((q) => q.online.length === 3);
    },
    { timeoutMs: 60_000, intervalMs: 1_000 },
  );
  await system.waitReady();
  const restarted = await system.rehome();
  if (restarted.length > 0) {
    process.stderr.write(
      `  [partitions] restarted on their own host's node before the case: ${restarted.join(', ')}\n`,
    );
  }
}

/** Polls every instance's /health/ready (from its own host) until stopped. */
function sampleReadiness(system: PartitionSystem): { stop: () => Promise<Map<string, number[]>> } {
  const seen = new Map<string, Set<number>>(
    system.instances.map((s) => [system.label(s), new Set()]),
  );
  let running = true;
  const loop = (async () => {
    while (running) {
      await Promise.all(
        system.instances.map(async (s) =>
          seen.get(system.label(s))!.add(await s.status('/health/ready', 2_000)),
        ),
      );
      await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return new Map([...seen].map(([k, v]) => [k, [...v].sort()]));
    },
  };
}

/** The distinct warning and error messages each instance logged between `from` and `to`. */
function withWarnings(
  system: PartitionSystem,
  ready: Map<string, number[]>,
  from: number,
  to: number,
): CaseResult['services'] {
  return Object.fromEntries(
    system.instances.map((s) => {
      const counts = new Map<string, number>();
      for (const line of s.logs().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { level?: number; time?: string; msg?: string };
          const at = Date.parse(entry.time ?? '');
          if ((entry.level ?? 0) < 40 || at < from || at > to) continue;
          // Ids and figures vary from line to line; what happened does not.
          const msg = (entry.msg ?? '')
            .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>')
            .replace(/\d+/g, '#')
            .slice(0, 400);
          counts.set(msg, (counts.get(msg) ?? 0) + 1);
        } catch {
          // not a log line of ours
        }
      }
      const warnings = [...counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([m, n]) => `${n}× ${m}`);
      return [system.label(s), { ready: ready.get(system.label(s)) ?? [], warnings }];
    }),
  );
}

function firstConfirmedAfter(load: RemoteLoad, at: number): number | undefined {
  const answers = load.accepted
    .filter((o) => o.status === 'CONFIRMED' && o.sentAt >= at)
    .map((o) => o.answeredAt);
  return answers.length > 0 ? Math.min(...answers) : undefined;
}

function longestGap(load: RemoteLoad, from: number): number {
  const answers = [
    from,
    ...load.accepted
      .filter((o) => o.status === 'CONFIRMED' && o.answeredAt >= from)
      .map((o) => o.answeredAt),
  ].sort((a, b) => a - b);
  return Math.max(0, ...answers.map((t, i) => t - (answers[i - 1] ?? t)));
}

function report(r: CaseResult): void {
  const gone = r.tally ?? { lost: '?', duplicated: '?' };
  process.stderr.write(
    `  [partitions:${r.handling}] ${r.name}: partition seen ${r.detectedMs} ms after the cut` +
      (r.pausedMs !== undefined ? `, minority paused at ${r.pausedMs} ms` : '') +
      `; healed: cluster whole ${r.healthyMs} ms later` +
      (r.restarted.length > 0 ? ` (after restarting ${r.restarted.join(', ')})` : '') +
      `, recovered (services ready, an order placed after the heal confirmed) ${r.recoveredMs} ms; ` +
      `longest time without a confirmation ${r.longestGapMs} ms; lost ${gone.lost}, duplicated ${gone.duplicated}` +
      (r.failure ? `; FAILED: ${r.failure}` : '') +
      '\n',
  );
}

async function sleepUntil(at: number): Promise<void> {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}
