import type { DeviceCollectRequest } from '@warden/contracts';

export type Behaviour = NonNullable<DeviceCollectRequest['behaviour']>;

// The contract's upper bounds: a count past them would make the server refuse the request.
const MAX_MS_TO_SUBMIT = 86_400_000;
const MAX_PASTES = 10_000;
const MAX_KEYSTROKES = 1_000_000;
const MAX_INTERVAL_MS = 600_000;
const MAX_POINTER_MOVES = 10_000_000;

/**
 * Mean and standard deviation of the intervals between keydowns, kept online (Welford) so a page
 * open for hours holds three numbers, not every timestamp.
 */
export class KeyIntervals {
  private last: number | undefined;
  private count = 0;
  private mean = 0;
  private squares = 0;

  /** Records a keydown at `timestamp` (ms); only the time is seen, never the key. */
  add(timestamp: number): void {
    if (this.last !== undefined) {
      const interval = Math.max(0, timestamp - this.last);
      this.count += 1;
      const delta = interval - this.mean;
      this.mean += delta / this.count;
      this.squares += delta * (interval - this.mean);
    }
    this.last = timestamp;
  }

  /** The mean and the population standard deviation, or undefined before two keydowns. */
  summary(): { mean: number; sd: number } | undefined {
    if (this.count === 0) return undefined;
    return { mean: this.mean, sd: Math.sqrt(this.squares / this.count) };
  }
}

/** The interval statistics of a list of keydown timestamps. */
export function keyIntervalStats(timestamps: readonly number[]): { mean: number; sd: number } | undefined {
  const intervals = new KeyIntervals();
  for (const timestamp of timestamps) intervals.add(timestamp);
  return intervals.summary();
}

export interface BehaviourCounts {
  msToSubmit: number;
  pastesSensitive: number;
  keystrokes: number;
  pointerMoves: number;
  intervals: { mean: number; sd: number } | undefined;
}

/** The request's `behaviour`: whole numbers where the contract wants integers, all within its bounds. */
export function summariseBehaviour(counts: BehaviourCounts): Behaviour {
  const behaviour: Behaviour = {
    ms_to_submit: clampInt(counts.msToSubmit, MAX_MS_TO_SUBMIT),
    pastes_sensitive: clampInt(counts.pastesSensitive, MAX_PASTES),
    keystrokes: clampInt(counts.keystrokes, MAX_KEYSTROKES),
    pointer_moves: clampInt(counts.pointerMoves, MAX_POINTER_MOVES),
  };
  if (counts.intervals) {
    behaviour.key_interval_mean_ms = clampMs(counts.intervals.mean);
    behaviour.key_interval_sd_ms = clampMs(counts.intervals.sd);
  }
  return behaviour;
}

function clampInt(value: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(0, Math.round(value))) : 0;
}

/** Milliseconds to one decimal: finer than a keyboard's timing resolution is noise. */
function clampMs(value: number): number {
  return Number.isFinite(value) ? Math.min(MAX_INTERVAL_MS, Math.max(0, Math.round(value * 10) / 10)) : 0;
}

/** The attributes of a form field that say whether it holds a secret. */
export interface FieldAttributes {
  type?: string | null;
  autocomplete?: string | null;
  name?: string | null;
  id?: string | null;
}

const SENSITIVE_NAME = /card|cvv|cvc|otp|code|iban|password/i;

/**
 * Whether a paste into this field counts as a paste of a secret: a password, a card field, a
 * one-time code, or a field whose name says it holds one. The page's own `sensitiveFields`
 * selector is checked apart, since it needs the element.
 */
export function isSensitiveField(field: FieldAttributes): boolean {
  if (field.type?.toLowerCase() === 'password') return true;
  // autocomplete may carry section and address-kind tokens before the field name.
  const tokens = (field.autocomplete ?? '').toLowerCase().split(/\s+/);
  if (tokens.some((token) => token.startsWith('cc-') || token === 'one-time-code')) return true;
  return SENSITIVE_NAME.test(field.name ?? '') || SENSITIVE_NAME.test(field.id ?? '');
}
