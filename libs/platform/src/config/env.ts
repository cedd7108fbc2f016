import { z } from 'zod';

/** Start-up fails with this, naming every bad or missing variable at once. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

export type Env = Record<string, string | undefined>;

export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  return parseEnvParts(env, schema)[0];
}

/** Parses several schemas against one environment and reports the problems of all of them. */
export function parseEnvParts<A extends z.ZodObject, B extends z.ZodObject>(
  env: Env,
  a: A,
  b?: B,
): [z.infer<A>, z.infer<B>] {
  // Empty strings count as unset, as in most .env conventions.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const problems: string[] = [];
  const parse = (schema: z.ZodObject): unknown => {
    const result = schema.safeParse(cleaned);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      // A path like RABBITMQ_URL.1 points into a list: the variable is set, one entry is bad.
      const variable = String(issue.path[0]);
      const label = issue.path.join('.');
      problems.push(
        variable in cleaned ? `${label}: ${issue.message}` : `${variable}: is required`,
      );
    }
    return undefined;
  };
  const parsed = [parse(a), b ? parse(b) : {}];
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return parsed as [z.infer<A>, z.infer<B>];
}

const amqpUrl = z.string().regex(/^amqps?:\/\/[^\s,]+$/, 'must be an amqp:// or amqps:// URL');

/** Comma-separated to list the nodes of a cluster. */
export const amqpUrls = z
  .string()
  .transform((value) => value.split(',').map((u) => u.trim()))
  .pipe(z.array(amqpUrl).min(1));

export const postgresUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL');

export const port = z.coerce.number().int().min(0).max(65_535);
export const positiveInt = z.coerce.number().int().positive();
export const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
export const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier');
