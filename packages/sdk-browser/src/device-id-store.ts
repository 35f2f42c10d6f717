/**
 * The Warden device id, kept first-party in two places so that clearing either one alone does not
 * lose it: localStorage and a cookie on the page's own site.
 */
const KEY = 'warden_device_id';
/** Two years: the device id should outlive the usual gap between two visits of a returning user. */
const COOKIE_MAX_AGE_S = 2 * 365 * 24 * 60 * 60;
/** The contract's pattern for `stored_id`: anything else is not ours and would fail the request. */
const DEVICE_ID = /^dev_[A-Za-z0-9_-]{8,60}$/;

export function readStoredDeviceId(): string | undefined {
  const candidates = [readLocalStorage(), readCookie()];
  return candidates.find((id): id is string => id !== undefined && DEVICE_ID.test(id));
}

export function storeDeviceId(id: string): void {
  if (!DEVICE_ID.test(id)) return;
  try {
    localStorage.setItem(KEY, id);
  } catch {
    // Storage can be disabled or full; the cookie is the other copy.
  }
  try {
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is missing from Firefox and older Safari.
    document.cookie = `${KEY}=${id}; Max-Age=${COOKIE_MAX_AGE_S}; Path=/; SameSite=Lax${secure}`;
  } catch {
    // A sandboxed document may refuse cookies; localStorage is the other copy.
  }
}

function readLocalStorage(): string | undefined {
  try {
    return localStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

function readCookie(): string | undefined {
  try {
    for (const pair of document.cookie.split(';')) {
      const [name, value] = pair.trim().split('=');
      if (name === KEY && value) return value;
    }
  } catch {
    // Same as above: no cookie access, no cookie copy.
  }
  return undefined;
}
