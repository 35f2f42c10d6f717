import { type Static, Type } from '@sinclair/typebox';
import { LIST_ENTRY_SOURCES, LIST_KIND_NAMES } from './console-values.js';

const closed = { additionalProperties: false } as const;
const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ListName = Type.String({
  pattern: '^[a-z][a-z0-9_]{0,62}$',
  description: 'Lower-case letters, digits and _; how rules refer to the list (lists.NAME)',
});

export const ListInput = Type.Object(
  {
    name: ListName,
    kind: lit(LIST_KIND_NAMES),
    type: lit(['allow', 'block'] as const),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  closed,
);
export type ListInput = Static<typeof ListInput>;

export const ListView = Type.Object(
  {
    name: Type.String(),
    kind: lit(LIST_KIND_NAMES),
    type: lit(['allow', 'block'] as const),
    description: Type.String(),
    entries: Type.Integer({ description: 'Entries held, expired ones included until they are removed' }),
    created_at: Type.String({ format: 'date-time' }),
    created_by: Type.String(),
  },
  closed,
);
export type ListView = Static<typeof ListView>;

export const ListEntryInput = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: 320 }),
    reason: Type.Optional(Type.String({ maxLength: 500 })),
    source: Type.Optional(lit(LIST_ENTRY_SOURCES)),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  closed,
);
export type ListEntryInput = Static<typeof ListEntryInput>;

export const ListEntryView = Type.Object(
  {
    value: Type.String({ description: 'As normalised for lookups' }),
    reason: Type.Union([Type.String(), Type.Null()]),
    source: lit(LIST_ENTRY_SOURCES),
    added_by: Type.String(),
    added_at: Type.String({ format: 'date-time' }),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  closed,
);
export type ListEntryView = Static<typeof ListEntryView>;
