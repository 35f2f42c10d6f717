import type fs from 'node:fs';

/** See durable-fs.js: wraps `target`'s calls for the files under `root` so that PGlite's writes reach the disk. */
export function makeDurable(
  target: typeof fs,
  root: string,
): {
  /** The WAL written so far, and any new names, on disk: call before answering a write. */
  commit(): void;
  /** Whether some WAL or a new name is written but not yet flushed. */
  pending(): boolean;
  stats: { fileFlushes: number; dirFlushes: number };
};
