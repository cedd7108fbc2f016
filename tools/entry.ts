import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started
 * with, so a tool runs its CLI then and stays importable (by its tests) otherwise.
 */
export function isEntryModule(moduleUrl: string): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === fileURLToPath(moduleUrl);
  } catch {
    return false;
  }
}
