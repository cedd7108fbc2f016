import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

/**
 * The one body of every HTTP error a service answers, whatever raised it: validation (with
 * `issues`), a domain error (`error` is its code), an unknown route, a body over the limit, a
 * rate limit, a missing API key or an unexpected failure.
 */
export const ErrorBody = z.object({
  statusCode: z.int().min(400).max(599),
  /** The HTTP reason phrase (`Bad Request`) or a domain error code (`ORDER.NOT_FOUND`). */
  error: z.string(),
  message: z.string(),
  /** Validation failures only: one entry per bad field. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export function errorBody(
  statusCode: number,
  message: string,
  extra: { error?: string; issues?: ErrorBody['issues'] } = {},
): ErrorBody {
  const body: ErrorBody = {
    statusCode,
    error: extra.error ?? STATUS_CODES[statusCode] ?? 'Error',
    message,
  };
  if (extra.issues) body.issues = extra.issues;
  return body;
}
