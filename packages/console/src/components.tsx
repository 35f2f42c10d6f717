import { Alert, Anchor, Badge, Button, NavLink, Table, Text } from '@mantine/core';
import { type UseInfiniteQueryResult, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { createLink } from '@tanstack/react-router';
import type { ComponentPropsWithRef, ReactNode } from 'react';
import { type Action, ApiError, api } from './api.js';

/** An API error as Warden words it (`error.message`), with its code for a bug report. */
export function ErrorNote({ error, title = 'Warden refused this' }: { error: unknown; title?: string }) {
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? `${error.status} ${error.code}` : null;
  return (
    <Alert color="red" title={title} role="alert" my="sm">
      {message}
      {code && (
        <Text size="xs" c="dimmed" mt={4}>
          {code}
        </Text>
      )}
    </Alert>
  );
}

/** For the routes a Warden may not serve yet (the stats and the link graph). */
export function NotAvailable({ what }: { what: string }) {
  return (
    <Alert color="gray" title="Not available">
      This Warden does not provide {what} yet.
    </Alert>
  );
}

const ACTION_COLORS: Record<Action, string> = {
  allow: 'green',
  challenge: 'yellow',
  review: 'orange',
  block: 'red',
};

export function ActionBadge({ action }: { action: Action }) {
  return <Badge color={ACTION_COLORS[action]}>{action}</Badge>;
}

/** Dates as the analyst's browser writes them. */
export const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** Amounts are minor units of the installation's reference currency. */
export const money = (minor: number | null) => (minor === null ? '—' : (minor / 100).toFixed(2));

/** A two-column table of an object's fields (profile, verification, …). */
export function KeyValues({ values }: { values: Record<string, unknown> }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <Text c="dimmed">None</Text>;
  return (
    <Table withRowBorders={false} verticalSpacing={2}>
      <Table.Tbody>
        {entries.map(([key, value]) => (
          <Table.Tr key={key}>
            <Table.Td c="dimmed" w="40%">
              {key}
            </Table.Td>
            <Table.Td>{typeof value === 'object' ? JSON.stringify(value) : String(value)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** Section headings that say what a page or card is about. */
export function Heading({ children }: { children: ReactNode }) {
  return (
    <Text fw={600} size="lg" mb="xs">
      {children}
    </Text>
  );
}

// Mantine's anchor and nav link, routed: typed `to` and `params`, the router's active state.
export const RouterAnchor = createLink((props: ComponentPropsWithRef<'a'>) => <Anchor {...props} />);
export const RouterNavLink = createLink(
  (props: Omit<ComponentPropsWithRef<'a'>, 'onChange'> & { label: ReactNode; active?: boolean }) => (
    <NavLink {...props} />
  ),
);

/** A list the API pages with cursors (`next_cursor`): the rows of every page loaded so far. */
export function useCursorPages<T>(
  queryKey: readonly unknown[],
  fetchPage: (cursor: string | null) => Promise<{ data: T[]; next_cursor: string | null }>,
) {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  return { query, rows: query.data?.pages.flatMap((page) => page.data) ?? [] };
}

/** The button under a paged table, while there is more. */
export function LoadMore({ query }: { query: UseInfiniteQueryResult }) {
  if (!query.hasNextPage) return null;
  return (
    <Button
      mt="sm"
      variant="light"
      w="fit-content"
      loading={query.isFetchingNextPage}
      onClick={() => query.fetchNextPage()}
    >
      Load more
    </Button>
  );
}

/** Rule names by id where the role may read rules; empty otherwise (the ids show instead). */
export function useRuleNames(): Map<string, string> {
  const rules = useQuery({ queryKey: ['rules'], queryFn: api.rules, retry: false });
  return new Map(rules.data?.data.map((rule) => [rule.id, rule.name]));
}

/** The rules a decision matched, by name where known. */
export function RuleBadges({ ids, names }: { ids: string[]; names: Map<string, string> }) {
  return ids.map((id) => (
    <Badge key={id} variant="outline" size="sm" mr={4} tt="none">
      {names.get(id) ?? id}
    </Badge>
  ));
}

/** When something was made, and by whom (`staff:…`, `api_key:…`), for a table cell. */
export function MadeBy({ at, by }: { at: string; by: string }) {
  return (
    <>
      <Text size="sm">{when(at)}</Text>
      <Text size="xs" c="dimmed">
        by {by}
      </Text>
    </>
  );
}

/** Active, or ended (`revoked`, `disabled`) and when, for a table cell. */
export function ActiveOrEnded({ endedAt, ended }: { endedAt: string | null; ended: string }) {
  if (!endedAt)
    return (
      <Badge variant="light" color="green">
        active
      </Badge>
    );
  return (
    <>
      <Badge color="red">{ended}</Badge>
      <Text size="xs" c="dimmed">
        {when(endedAt)}
      </Text>
    </>
  );
}

/** A `datetime-local` input's value for `date`: minutes, in the browser's time zone. */
export function localInput(date: Date): string {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** A `datetime-local` input's value as ISO 8601 (what the API takes); undefined when empty. */
export const isoFromLocal = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** A table's header row of plain column names ('' for a column of buttons). */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <Table.Thead>
      <Table.Tr>
        {columns.map((column, i) => (
          // Names repeat only as '' (button columns): the position tells them apart.
          // biome-ignore lint/suspicious/noArrayIndexKey: a fixed list, never reordered
          <Table.Th key={i}>{column}</Table.Th>
        ))}
      </Table.Tr>
    </Table.Thead>
  );
}
