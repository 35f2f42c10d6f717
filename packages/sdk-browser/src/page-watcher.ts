import { type BehaviourCounts, isSensitiveField, KeyIntervals } from './behaviour.js';

/** Counts what happens on the page from init on; it sees event times and targets, never keys or values. */
export interface PageWatcher {
  /** The counts so far, with the time from page load to now as `msToSubmit`. */
  snapshot(): BehaviourCounts;
}

/**
 * Starts counting keystrokes, pointer moves and pastes into secret fields. The listeners are
 * passive and on the document's capture phase, so they neither slow scrolling nor miss events the
 * page stops from bubbling.
 */
export function watchPage(sensitiveFields: string | undefined): PageWatcher {
  const startedAt = Date.now();
  const intervals = new KeyIntervals();
  let keystrokes = 0;
  let pointerMoves = 0;
  let pastesSensitive = 0;
  const listen = { capture: true, passive: true } as const;

  document.addEventListener(
    'keydown',
    (event) => {
      // A held key repeats on its own; those are not keystrokes.
      if (event.repeat) return;
      keystrokes += 1;
      intervals.add(event.timeStamp);
    },
    listen,
  );
  document.addEventListener(
    'pointermove',
    () => {
      pointerMoves += 1;
    },
    listen,
  );
  document.addEventListener(
    'paste',
    (event) => {
      if (isSensitiveTarget(event.target, sensitiveFields)) pastesSensitive += 1;
    },
    listen,
  );

  return {
    snapshot: () => ({
      msToSubmit: msSincePageLoad(startedAt),
      pastesSensitive,
      keystrokes,
      pointerMoves,
      intervals: intervals.summary(),
    }),
  };
}

/** From the page's time origin (its navigation start) when the browser has one, else from init. */
function msSincePageLoad(startedAt: number): number {
  return typeof performance !== 'undefined' && typeof performance.now === 'function'
    ? performance.now()
    : Date.now() - startedAt;
}

function isSensitiveTarget(target: EventTarget | null, sensitiveFields: string | undefined): boolean {
  if (!(target instanceof Element)) return false;
  const fromAttributes = isSensitiveField({
    type: target.getAttribute('type'),
    autocomplete: target.getAttribute('autocomplete'),
    name: target.getAttribute('name'),
    id: target.id,
  });
  if (fromAttributes || !sensitiveFields) return fromAttributes;
  try {
    return target.matches(sensitiveFields);
  } catch {
    // An invalid selector from the page must not break paste handling; it just matches nothing.
    return false;
  }
}
