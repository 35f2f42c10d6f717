/**
 * Attributes that name one person, card, address or event: as model inputs they would only learn
 * who was fraud in the training data, and they hold personal data the model file must not carry.
 */
const IDENTIFIERS = new Set([
  'event.id',
  'event.type',
  'user.id',
  'email.address',
  'email.normalised',
  'phone.number',
  'phone.e164',
  'ip.address',
  'ip.network',
  'device.id',
  'session.user_agent',
  'payment.account_number',
  'card.fingerprint',
  'card.bin',
  'card.last4',
  'billing.postal_code',
]);

/** A string attribute with more distinct values than this is an identifier in all but name. */
const MAX_DISTINCT_STRINGS = 200;
/** An attribute present in fewer rows than this share tells the model too little. */
const MIN_PRESENT_SHARE = 0.01;

function usable(value: unknown): value is number | boolean | string {
  return (
    (typeof value === 'number' && Number.isFinite(value)) ||
    typeof value === 'boolean' ||
    typeof value === 'string'
  );
}

/**
 * The attributes a model trains on, chosen from the feature snapshots themselves: numbers and
 * booleans, and strings with few distinct values (countries, brands, types), present in at least
 * 1% of rows and not the same in every row; identifiers and the score itself are left out. Sorted
 * by name, so the same data gives the same feature list.
 */
export function trainingFeatureNames(rows: readonly Record<string, unknown>[]): string[] {
  const stats = new Map<string, { present: number; strings: Set<string>; first: unknown; varies: boolean }>();
  for (const row of rows) {
    for (const name in row) {
      const value = row[name];
      if (!usable(value)) continue;
      let s = stats.get(name);
      if (!s) {
        s = { present: 0, strings: new Set(), first: value, varies: false };
        stats.set(name, s);
      }
      s.present++;
      if (!s.varies && value !== s.first) s.varies = true;
      if (typeof value === 'string' && s.strings.size <= MAX_DISTINCT_STRINGS) s.strings.add(value);
    }
  }
  const names: string[] = [];
  for (const [name, s] of stats) {
    if (IDENTIFIERS.has(name) || name === 'score') continue;
    if (s.present < rows.length * MIN_PRESENT_SHARE) continue;
    if (s.strings.size > MAX_DISTINCT_STRINGS) continue;
    // A value present in some rows and missing in others varies too.
    if (!s.varies && s.present === rows.length) continue;
    names.push(name);
  }
  return names.sort();
}
