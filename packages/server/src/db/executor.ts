import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** A database handle or an open transaction: repositories take this, use cases decide atomicity. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Splits rows into chunks so one statement stays well under Postgres's 65,535 parameters. */
export function chunks<T>(rows: T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
