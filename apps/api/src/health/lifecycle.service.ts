import { Injectable } from '@nestjs/common';

/** The node's shutdown state: once draining, readiness fails and new streams get 503. */
@Injectable()
export class LifecycleService {
  private drainingSince?: number;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  beginDrain(): void {
    this.drainingSince ??= Date.now();
  }
}
