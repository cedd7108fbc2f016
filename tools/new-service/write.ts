import { mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Change } from './plan.js';

/**
 * Writes every change, or none: new files are created exclusively (never over an existing
 * one), edited files replaced atomically, and on any failure what was written is undone.
 */
export function writeChanges(root: string, changes: readonly Change[]): void {
  const done: Change[] = [];
  const createdDirs: string[] = [];
  let temporary: string | undefined;
  try {
    for (const change of changes) {
      const path = join(root, change.path);
      if (change.previous === undefined) {
        const created = mkdirSync(dirname(path), { recursive: true });
        if (created) createdDirs.push(created);
        writeFileSync(path, change.content, { flag: 'wx' });
      } else {
        temporary = `${path}.new-service`;
        writeFileSync(temporary, change.content);
        renameSync(temporary, path);
        temporary = undefined;
      }
      done.push(change);
    }
  } catch (error) {
    if (temporary) rmSync(temporary, { force: true });
    for (const change of done.reverse()) {
      const path = join(root, change.path);
      if (change.previous === undefined) unlinkSync(path);
      else writeFileSync(path, change.previous);
    }
    for (const dir of createdDirs.reverse()) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
