/**
 * CPU time from /proc (Linux), in milliseconds: of one process, of PostgreSQL, of the whole
 * machine. /proc reports clock ticks of 1/100 s (USER_HZ is 100 on every Linux the bench
 * runs on), so a figure is exact to 10 ms per process: a fraction of a percent over a run of
 * thousands of orders.
 */
import { readdirSync, readFileSync } from 'node:fs';

const MS_PER_TICK = 10;

interface ProcStat {
  ppid: number;
  /** utime + stime, ms. */
  own: number;
  /** cutime + cstime: children that exited and were waited for, ms. */
  children: number;
}

/** Fields after the command name, which is in brackets and may contain spaces. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined; // exited
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  return {
    ppid: Number(f[1]),
    own: (Number(f[11]) + Number(f[12])) * MS_PER_TICK,
    children: (Number(f[13]) + Number(f[14])) * MS_PER_TICK,
  };
}

/** User + system CPU of one process so far, ms (0 once it has exited). */
export function processCpuMs(pid: number): number {
  return readStat(pid)?.own ?? 0;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

export interface PostgresCpu {
  /** Backends connected to `database` (their process title names it), ms. */
  backends: number;
  /**
   * The whole cluster: the postmaster, every child alive (backends of every database, WAL
   * writer, checkpointer, background writer, autovacuum) and every child that has exited
   * (the postmaster's cutime/cstime), ms.
   */
  cluster: number;
}

/**
 * PostgreSQL's CPU so far, from the postmaster `postmaster` and its children. A backend's
 * title is `postgres: <user> <database> <client> <state>`, which picks the run's own.
 */
export function postgresCpuMs(postmaster: number, database: string): PostgresCpu {
  const root = readStat(postmaster);
  if (!root) throw new Error(`PostgreSQL's postmaster (pid ${postmaster}) is not running`);
  let backends = 0;
  let cluster = root.own + root.children;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === postmaster) continue;
    const stat = readStat(pid);
    if (stat?.ppid !== postmaster) continue;
    cluster += stat.own;
    if (commandLine(pid).includes(` ${database} `)) backends += stat.own;
  }
  return { backends, cluster };
}

/** CPU the machine spent on anything but idle (user, nice, system, irq, softirq, steal), ms. */
export function machineCpuMs(): number {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) * MS_PER_TICK;
}

/** The single running `beam.smp` (RabbitMQ), when the management API does not say. */
export function findBeamPid(): number | undefined {
  const beams = readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'beam.smp';
      } catch {
        return false;
      }
    });
  return beams.length === 1 ? beams[0] : undefined;
}
