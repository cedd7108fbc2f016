import { spawn } from 'node:child_process';

export interface GuideStep {
  /** The `<!-- guide-test: checkpoint NAME -->` that ends the step. */
  checkpoint: string;
  /** Its `sh` blocks, in order. */
  blocks: string[];
}

/**
 * The `sh` blocks of a markdown guide, grouped into steps by checkpoint markers. A block right
 * after `<!-- guide-test: skip -->` is left out (long-running commands, curl against a server).
 * Blocks after the last checkpoint form a step named `end`.
 */
export function guideSteps(markdown: string): GuideStep[] {
  const steps: GuideStep[] = [];
  let blocks: string[] = [];
  let block: string[] | undefined;
  let skipNext = false;
  let skipping = false;
  for (const line of markdown.split('\n')) {
    if (block || skipping) {
      if (/^```\s*$/.test(line)) {
        if (block) blocks.push(block.join('\n'));
        block = undefined;
        skipping = false;
      } else block?.push(line);
      continue;
    }
    const checkpoint = /^<!-- guide-test: checkpoint (\S+) -->$/.exec(line);
    if (checkpoint) {
      steps.push({ checkpoint: checkpoint[1]!, blocks });
      blocks = [];
    } else if (line === '<!-- guide-test: skip -->') skipNext = true;
    else if (/^```sh\s*$/.test(line)) {
      if (skipNext) skipping = true;
      else block = [];
      skipNext = false;
    }
  }
  if (blocks.length > 0) steps.push({ checkpoint: 'end', blocks });
  return steps;
}

export interface ShellResult {
  code: number;
  output: string;
}

/** Runs `script` with bash (stops at the first failing command), as a user would paste it. */
export function shell(script: string, cwd: string, timeoutMs = 180_000): Promise<ShellResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', NO_UPDATE_NOTIFIER: '1' };
  delete env.JEST_WORKER_ID;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-eo', 'pipefail', '-c', script], { cwd, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

/** Like `shell`, but fails with the command and the end of its output unless it succeeded. */
export async function mustPass(script: string, cwd: string, timeoutMs?: number): Promise<string> {
  const { code, output } = await shell(script, cwd, timeoutMs);
  if (code !== 0) {
    const tail = output.trimEnd().split('\n').slice(-60).join('\n');
    throw new Error(
      `exit code ${code} from:\n${script.slice(0, 400)}\n--- output (end) ---\n${tail}`,
    );
  }
  return output;
}
