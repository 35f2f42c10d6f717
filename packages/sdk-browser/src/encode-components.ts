import type { DeviceComponentValue } from '@warden/contracts';

/** A FingerprintJS component: its value, or the error its source threw (`duration` is not sent). */
export type RawComponent = { value: unknown } | { error: unknown };

/**
 * SHA-256 of some bytes: `crypto.subtle.digest` in the page, node's webcrypto in tests. Undefined
 * where the page has no `crypto.subtle` (plain-HTTP pages other than localhost).
 */
export type Sha256 = (data: Uint8Array<ArrayBuffer>) => Promise<ArrayBuffer>;

// The limits below are the contract's (DeviceComponentValue and the components record): a value
// past them would make the server refuse the whole request.
const MAX_STRING = 256;
const MAX_LIST_ITEMS = 200;
const MAX_LIST_ITEM = 128;
const MAX_COMPONENTS = 80;
const COMPONENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const HASH_HEX_CHARS = 16;

/**
 * Encodes FingerprintJS components the way the server's fuzzy matcher expects them, so keep it
 * exact: an error is null; booleans, numbers and strings up to 256 characters go as they are;
 * lists of strings (fonts, plugin names, languages, vendor flavours, DOM blockers) go as lists, so
 * the server can measure how much two lists overlap; anything else (objects, canvas images, WebGL
 * parameters, long strings) goes as the first 16 hex characters of the SHA-256 of its JSON.
 */
export async function encodeComponents(
  raw: Readonly<Record<string, RawComponent>>,
  sha256: Sha256 | undefined,
): Promise<Record<string, DeviceComponentValue>> {
  const encoded: Record<string, DeviceComponentValue> = {};
  let count = 0;
  for (const [name, component] of Object.entries(raw)) {
    // A name the contract refuses, or one past its 80, would fail the whole request; dropping it
    // loses one signal instead.
    if (!COMPONENT_NAME.test(name) || count >= MAX_COMPONENTS) continue;
    encoded[name] = 'error' in component ? null : await encodeValue(name, component.value, sha256);
    count += 1;
  }
  return encoded;
}

/** Encodes one component's value; `name` picks the shape of the two lists FingerprintJS nests. */
export async function encodeValue(
  name: string,
  value: unknown,
  sha256: Sha256 | undefined,
): Promise<DeviceComponentValue> {
  const list = asStringList(name, value);
  if (list) return list.slice(0, MAX_LIST_ITEMS).map((item) => item.slice(0, MAX_LIST_ITEM));
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value;
  // JSON has no NaN or Infinity: they would arrive as null anyway.
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.length <= MAX_STRING) return value;
  // Any other hash would never equal the SHA-256 prefix the same device sends from an HTTPS page, so
  // a page without SHA-256 sends nothing for these rather than a value that cannot match.
  return sha256 ? hashJson(value, sha256) : null;
}

/** The first 16 hex characters of the SHA-256 of `value`'s JSON. */
export async function hashJson(value: unknown, sha256: Sha256): Promise<string> {
  const digest = await sha256(new TextEncoder().encode(JSON.stringify(value)));
  let hex = '';
  for (const byte of new Uint8Array(digest, 0, HASH_HEX_CHARS / 2)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function asStringList(name: string, value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  // FingerprintJS gives languages as a list of lists and plugins as objects; the set the server
  // compares is the flat list of language tags and of plugin names.
  if (name === 'languages') return allStrings(value.flat());
  if (name === 'plugins') return allStrings(value.map((plugin: unknown) => pluginName(plugin)));
  return allStrings(value);
}

function pluginName(plugin: unknown): unknown {
  return typeof plugin === 'object' && plugin !== null && 'name' in plugin ? plugin.name : undefined;
}

function allStrings(items: unknown[]): string[] | undefined {
  return items.every((item): item is string => typeof item === 'string') ? items : undefined;
}
