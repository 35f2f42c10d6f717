import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ErrorCode } from '@warden/contracts';
import type { EventIngestor } from './ingest-events.js';

export interface ImportReport {
  lines: number;
  created: number;
  duplicates: number;
  failed: number;
  /** The first failures, by line number, to show the operator. */
  failures: { line: number; code: ErrorCode; message: string }[];
}

/**
 * Imports newline-delimited JSON events through the same path as the API, in batches. Bad lines
 * are reported by number and skipped; good ones are stored; re-running skips what is stored.
 */
export async function importEventsFile(
  ingestor: EventIngestor,
  file: string,
  options: {
    batchSize: number;
    onProgress?: (bytesRead: number, totalBytes: number, report: ImportReport) => void;
  },
): Promise<ImportReport> {
  const totalBytes = statSync(file).size;
  const report: ImportReport = { lines: 0, created: 0, duplicates: 0, failed: 0, failures: [] };
  const stream = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let batch: { line: number; value: unknown }[] = [];
  let bytesRead = 0;

  const fail = (line: number, code: ErrorCode, message: string) => {
    report.failed++;
    if (report.failures.length < 20) report.failures.push({ line, code, message });
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    const results = await ingestor.ingestBatch(current.map((b) => b.value));
    for (const result of results) {
      const line = current[result.index]?.line ?? 0;
      if ('error' in result) fail(line, result.error.code, result.error.message);
      else if (result.status === 'created') report.created++;
      else report.duplicates++;
    }
    options.onProgress?.(bytesRead, totalBytes, report);
  };

  for await (const text of lines) {
    report.lines++;
    bytesRead += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    try {
      batch.push({ line: report.lines, value: JSON.parse(text) });
    } catch (error) {
      fail(report.lines, 'invalid_json', error instanceof Error ? error.message : 'not JSON');
    }
    if (batch.length >= options.batchSize) await flush();
  }
  await flush();
  return report;
}
