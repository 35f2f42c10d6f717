import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import { IN_MEMORY } from '../db/storage.js';

export interface MasterKey {
  key: Buffer;
  /** Set when this start generated the key: the caller warns the operator to back it up. */
  createdAt?: string;
}

/**
 * The master key comes from WARDEN_MASTER_KEY. In embedded mode without one, it lives in
 * `<dataDir>/master.key`, made on first start; losing that file loses every encrypted field.
 */
export function resolveMasterKey(config: Config, databaseHasKeys: boolean): MasterKey {
  if (config.masterKey) return { key: Buffer.from(config.masterKey, 'base64') };
  if (config.databaseUrl) throw new ConfigError('WARDEN_MASTER_KEY is required with DATABASE_URL');
  if (config.dataDir === IN_MEMORY) return { key: randomBytes(32) };
  const file = join(resolve(config.dataDir), 'master.key');
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new ConfigError(`${file} does not hold a 32-byte base64 key`);
    return { key };
  }
  if (databaseHasKeys) {
    throw new ConfigError(
      `${file} is missing but ${config.dataDir} holds encrypted data: restore master.key from your backup or set WARDEN_MASTER_KEY`,
    );
  }
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, createdAt: file };
}
