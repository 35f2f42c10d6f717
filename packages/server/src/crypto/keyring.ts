import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomFillSync,
} from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
/** Blind indexes kept per process before the cache starts over. */
const INDEX_CACHE_MAX = 100_000;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * IVs come from the CSPRNG 4 KB at a time: a call into it per IV (two per decision) cost more
 * than the encryption. Each IV is used once, as before; only the system calls are fewer.
 */
const IV_POOL = Buffer.alloc(IV_BYTES * 341);
let ivOffset = IV_POOL.length;
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivOffset = 0;
  }
  // A copy: the pool is refilled in place once used up.
  const iv = Buffer.from(IV_POOL.subarray(ivOffset, ivOffset + IV_BYTES));
  ivOffset += IV_BYTES;
  return iv;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = nextIv();
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

export interface StoredDataKey {
  id: string;
  wrapped: string;
}

/**
 * Envelope encryption. The master key (from config, or generated on first start in embedded mode)
 * only wraps data keys; data keys, stored wrapped in the database, encrypt personal data with
 * AES-256-GCM. Rotating a data key is adding one; old ciphertexts name the key that made them.
 * The same master key derives the blind-index key (HMAC lookups) and the audit-chain key.
 */
export class Keyring {
  private readonly dataKeys = new Map<string, Buffer>();
  private activeId: string | null = null;
  private readonly indexKey: Buffer;
  private readonly auditKey: Buffer;

  constructor(private readonly masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('The master key must be 32 bytes');
    this.indexKey = Buffer.from(hkdfSync('sha256', masterKey, '', 'warden blind index v1', 32));
    this.auditKey = Buffer.from(hkdfSync('sha256', masterKey, '', 'warden audit chain v1', 32));
  }

  /** Loads wrapped data keys; the last one becomes the key new data is encrypted with. */
  load(keys: StoredDataKey[]): void {
    for (const key of keys) {
      let unwrapped: Buffer;
      try {
        unwrapped = open(this.masterKey, Buffer.from(key.wrapped, 'base64'), `data-key:${key.id}`);
      } catch {
        throw new Error(
          `Data key ${key.id} cannot be unwrapped: WARDEN_MASTER_KEY is not the key this database was created with`,
        );
      }
      this.dataKeys.set(key.id, unwrapped);
      this.activeId = key.id;
    }
  }

  /** Makes a new data key, wrapped for storage. Call load() with it once it is stored. */
  newDataKey(id: string): StoredDataKey {
    const wrapped = seal(this.masterKey, randomBytes(32), `data-key:${id}`);
    return { id, wrapped: wrapped.toString('base64') };
  }

  get hasActiveKey(): boolean {
    return this.activeId !== null;
  }

  /** `v1.<key id>.<base64url(iv | tag | ciphertext)>`; `context` binds it to its column. */
  encrypt(plaintext: string | Buffer, context: string): string {
    const id = this.activeId;
    const key = id ? this.dataKeys.get(id) : undefined;
    if (!id || !key) throw new Error('No data key loaded');
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return `v1.${id}.${seal(key, bytes, context).toString('base64url')}`;
  }

  decrypt(ciphertext: string, context: string): string {
    return this.decryptBytes(ciphertext, context).toString('utf8');
  }

  decryptBytes(ciphertext: string, context: string): Buffer {
    const [version, id, body] = ciphertext.split('.');
    const key = id ? this.dataKeys.get(id) : undefined;
    if (version !== 'v1' || !key || body === undefined) throw new Error(`Cannot decrypt: unknown key ${id}`);
    return open(key, Buffer.from(body, 'base64url'), context);
  }

  /**
   * Keyed hash for equality lookups on encrypted values (a blind index). Every decision hashes
   * the entities it names (a user's email, card, IP, device…), mostly ones seen moments ago, so the
   * newest hashes are kept in memory, bounded.
   */
  blindIndex(kind: string, value: string): string {
    const input = `${kind}\u0000${value}`;
    let hash = this.indexCache.get(input);
    if (hash === undefined) {
      hash = createHmac('sha256', this.indexKey).update(input).digest('base64url');
      if (this.indexCache.size >= INDEX_CACHE_MAX) this.indexCache.clear();
      this.indexCache.set(input, hash);
    }
    return hash;
  }
  private readonly indexCache = new Map<string, string>();

  /**
   * A key for one purpose (signing device tokens, captcha challenges), derived from the master key
   * so every node holds the same one and no new secret needs storing.
   */
  deriveSecret(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.masterKey, '', `warden ${purpose} v1`, 32));
  }

  auditHash(payload: string): string {
    return createHmac('sha256', this.auditKey).update(payload).digest('hex');
  }
}
