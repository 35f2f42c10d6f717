import type { ErrorCode } from '@warden/contracts';

/** A refusal the engine can explain: an error code, a sentence, and the field it is about. */
export interface Problem {
  code: ErrorCode;
  message: string;
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T>(problem: Problem): Result<T> => ({ ok: false, problem });
