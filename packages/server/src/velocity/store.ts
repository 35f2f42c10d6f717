import type { SeriesRead, SeriesReading, SeriesWrite } from '@warden/engine';

/** One event's work for a store: read its series (before it counts), then add what it adds. */
export interface VelocityOp {
  reads: SeriesRead[];
  writes: SeriesWrite[];
}

/**
 * Where velocity series live: process memory (embedded mode) or Redis (distributed mode). Both
 * give the same answers for the same operations (one conformance suite runs against both).
 */
export interface VelocityStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Runs operations in order: each one's reads see every earlier one's writes. Returns, per
   * operation, one reading per read.
   */
  run(ops: VelocityOp[]): Promise<SeriesReading[][]>;
  /** Series held and an estimate of the memory they take (bytes), for metrics and benchmarks. */
  stats(): Promise<{ series: number; bytes: number | null }>;
  /** Drops everything (a rebuild starts from nothing). */
  clear(): Promise<void>;
  close(): Promise<void>;
}
