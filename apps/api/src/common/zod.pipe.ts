import { Injectable, type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { validationFailed } from '../errors/problem';

/** Validates and transforms one request part with a zod schema; failure → 400 `validation_failed`. */
@Injectable()
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(
    private readonly schema: S,
    private readonly what: string,
  ) {}

  transform(value: unknown): z.output<S> {
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const details = parsed.error.issues.slice(0, 5).map((issue) => {
      const path = issue.path.length ? issue.path.join('.') : this.what;
      return `${path}: ${issue.message}`;
    });
    throw validationFailed(`invalid ${this.what}: ${details.join('; ')}`);
  }
}
