import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (this file is test/template/repo-copy.ts). */
export const repoRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

/** Never copied when the tree is not a git checkout: what .gitignore lists. */
const UNTRACKED = new Set(['node_modules', 'dist', 'coverage', '.git', '.env']);

/** The files a clone would have: tracked ones and new untracked ones, nothing git ignores. */
async function repoFiles(): Promise<string[]> {
  try {
    const { stdout } = await run(
      'git',
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      {
        cwd: repoRoot,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return stdout.split('\0').filter((f) => f && existsSync(join(repoRoot, f)));
  } catch {
    // Not a git checkout (a downloaded archive): everything but build output and secrets.
    const entries = await readdir(repoRoot, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => relative(repoRoot, join(e.parentPath, e.name)))
      .filter(
        (path) => !path.split('/').some((part) => UNTRACKED.has(part) || part.endsWith('.log')),
      );
  }
}

/**
 * A throw-away copy of the repository as a clone would have it (no dist/, no .env), sharing
 * node_modules through a symlink.
 */
export async function copyRepo(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'repo-copy-'));
  for (const file of await repoFiles()) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(repoRoot, file), join(dir, file));
  }
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
