import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { formatIssues, toFieldIssues } from '@app/messaging';
import type { z } from 'zod';

/**
 * `@Body(new ZodValidationPipe(Schema))`: 400 with one entry per bad field, e.g.
 * `{ "message": "items.0.quantity: Too small...", "issues": [{ "path": "items.0.quantity", ... }] }`.
 */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    const result = this.schema.safeParse(value);
    if (result.success) return result.data;
    const issues = toFieldIssues(result.error);
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: formatIssues(issues),
      issues,
    });
  }
}
