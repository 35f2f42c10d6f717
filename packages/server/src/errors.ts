import { ERROR_STATUS, type ErrorCode } from '@warden/contracts';
import type { Problem } from '@warden/engine';

/** The one error class: a code from the closed set, a sentence for people, and maybe a field. */
export class WardenError extends Error {
  override readonly name = 'WardenError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** Where in an expression or an uploaded file the problem is. */
    readonly details?: { position?: { start: number; end: number }; line?: number },
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static from(problem: Problem): WardenError {
    return new WardenError(problem.code, problem.message, problem.field);
  }
}
