import { DEFAULT_LIMIT_POLICIES, LIMIT_KEY_KINDS, LIMIT_USER_TYPES } from '@warden/contracts';

const duration = (s: number) =>
  s % 86_400 === 0 ? `${s / 86_400} d` : s % 3600 === 0 ? `${s / 3600} h` : `${s / 60} min`;

/** The defaults as docs/rate-limits.md shows them: one row per action and key kind. */
export function renderLimitDefaultsTable(): string {
  const lines = [
    `| action | key | ${LIMIT_USER_TYPES.join(' | ')} | block |`,
    `|---|---|${LIMIT_USER_TYPES.map(() => '---:').join('|')}|---|`,
  ];
  for (const [action, policy] of Object.entries(DEFAULT_LIMIT_POLICIES)) {
    for (const kind of LIMIT_KEY_KINDS) {
      const base = policy.limits[kind];
      if (!base) continue;
      const of = (userType: (typeof LIMIT_USER_TYPES)[number]) =>
        policy.user_types?.[userType]?.[kind] ?? base;
      const cells = LIMIT_USER_TYPES.map((u) => `${of(u).points} / ${duration(of(u).duration_seconds)}`);
      const blocks = [...new Set(LIMIT_USER_TYPES.map((u) => of(u).block_seconds ?? 0))];
      const block = blocks.map((b) => (b ? duration(b) : '—')).join(', ');
      lines.push(`| \`${action}\` | ${kind} | ${cells.join(' | ')} | ${block} |`);
    }
  }
  return lines.join('\n');
}
