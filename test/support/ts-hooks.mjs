// Node module hooks that run this repository's TypeScript sources directly, the way jest's swc
// transform does: `node --import ./test/support/ts-register.mjs apps/order/src/main.ts`. For
// tests that need a real Node process rather than jest's module runtime (which, on Node < 24.9,
// cannot load a CommonJS package that requires an ESM-only one, e.g. @nestjs/throttler).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';
import { swcOptions } from './swc-options.mjs';

const root = new URL('../../', import.meta.url);
const { paths } = JSON.parse(readFileSync(new URL('tsconfig.json', root), 'utf8')).compilerOptions;
/** tsconfig `paths` without wildcards: `@app/platform` → file URL of its index.ts. */
const aliases = new Map(
  Object.entries(paths).map(([alias, [target]]) => [alias, new URL(target, root).href]),
);

export async function resolve(specifier, context, next) {
  const alias = aliases.get(specifier);
  if (alias) return { url: alias, shortCircuit: true };
  // Sources import `./x.js` for `./x.ts` (nodenext resolution).
  if (
    /^\.{1,2}\//.test(specifier) &&
    specifier.endsWith('.js') &&
    context.parentURL?.endsWith('.ts')
  ) {
    const ts = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(ts))) return { url: ts.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const filename = fileURLToPath(url);
  const { code } = transformSync(readFileSync(filename, 'utf8'), { filename, ...swcOptions });
  return { format: 'module', source: code, shortCircuit: true };
}
