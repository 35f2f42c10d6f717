import {
  Card,
  Chip,
  Grid,
  Group,
  Loader,
  NumberInput,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useParams, useSearch } from '@tanstack/react-router';
import { useState } from 'react';
import {
  type Action,
  api,
  DECISION_EVENT_TYPES,
  type DecisionFilters,
  type DecisionSummary,
} from '../api.js';
import {
  ActionBadge,
  ErrorNote,
  Heading,
  isoFromLocal,
  LoadMore,
  localInput,
  RouterAnchor,
  RuleBadges,
  TableHead,
  useCursorPages,
  useRuleNames,
  when,
} from '../components.js';
import { DecisionCard, FeaturesCard } from './decision-cards.js';
import { UserCard } from './user-card.js';

const ACTIONS: Action[] = ['allow', 'challenge', 'review', 'block'];

/** The search is in the address (`/#/decisions?action=block&user_id=…`), so it can be shared. */
export type DecisionSearch = DecisionFilters;

const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
const score = (v: unknown) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100 ? v : undefined;

export function validateDecisionSearch(search: Record<string, unknown>): DecisionSearch {
  const actions = (Array.isArray(search.action) ? search.action : [search.action]).filter((a): a is Action =>
    ACTIONS.includes(a as Action),
  );
  return {
    action: actions.length ? actions : undefined,
    min_score: score(search.min_score),
    max_score: score(search.max_score),
    rule: text(search.rule),
    event_type: DECISION_EVENT_TYPES.find((t) => t === search.event_type),
    user_id: text(search.user_id),
    from: text(search.from),
    to: text(search.to),
  };
}

/** Every decision Warden made, newest first, filtered (GET /v1/decisions), a page at a time. */
export function DecisionsPage() {
  const search = useSearch({ from: '/decisions' });
  const navigate = useNavigate({ from: '/decisions' });
  const set = (change: Partial<DecisionSearch>) =>
    navigate({ search: (previous: DecisionSearch) => ({ ...previous, ...change }), replace: true });
  const [userId, setUserId] = useState(search.user_id ?? '');
  const { query: decisions, rows } = useCursorPages(['decisions', search], (cursor) =>
    api.decisions(search, cursor),
  );
  const ruleNames = useRuleNames();

  return (
    <Stack>
      <Title order={3}>Decisions</Title>
      <Group align="end" gap="sm">
        <div>
          <Text size="sm" fw={500}>
            Action
          </Text>
          <Chip.Group
            multiple
            value={search.action ?? []}
            onChange={(picked) => set({ action: picked.length ? (picked as Action[]) : undefined })}
          >
            <Group gap={4}>
              {ACTIONS.map((action) => (
                <Chip key={action} value={action}>
                  {action}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
        </div>
        <NumberInput
          label="Min score"
          min={0}
          max={100}
          w={100}
          value={search.min_score ?? ''}
          onChange={(v) => set({ min_score: typeof v === 'number' ? v : undefined })}
        />
        <NumberInput
          label="Max score"
          min={0}
          max={100}
          w={100}
          value={search.max_score ?? ''}
          onChange={(v) => set({ max_score: typeof v === 'number' ? v : undefined })}
        />
        <Select
          label="Event type"
          placeholder="Any"
          clearable
          w={200}
          data={[...DECISION_EVENT_TYPES]}
          value={search.event_type ?? null}
          onChange={(v) => set({ event_type: v ?? undefined })}
        />
        <Select
          label="Rule matched"
          placeholder="Any"
          clearable
          searchable
          w={240}
          data={[...ruleNames].map(([id, name]) => ({ value: id, label: name }))}
          value={search.rule ?? null}
          onChange={(v) => set({ rule: v ?? undefined })}
        />
        <form
          onSubmit={(event) => {
            event.preventDefault();
            set({ user_id: userId.trim() || undefined });
          }}
        >
          <TextInput
            label="User id (Enter)"
            w={200}
            value={userId}
            onChange={(event) => setUserId(event.currentTarget.value)}
          />
        </form>
        <TextInput
          label="From"
          type="datetime-local"
          w={200}
          value={search.from ? localInput(new Date(search.from)) : ''}
          onChange={(event) => set({ from: isoFromLocal(event.currentTarget.value) })}
        />
        <TextInput
          label="To"
          type="datetime-local"
          w={200}
          value={search.to ? localInput(new Date(search.to)) : ''}
          onChange={(event) => set({ to: isoFromLocal(event.currentTarget.value) })}
        />
      </Group>
      {decisions.error && <ErrorNote error={decisions.error} />}
      <Table striped highlightOnHover data-testid="decisions">
        <TableHead columns={['Decision', 'When', 'Action', 'Score', 'Event', 'User', 'Rules', 'Case']} />
        <Table.Tbody>
          {rows.map((row) => (
            <DecisionRow key={row.decision_id} row={row} ruleNames={ruleNames} />
          ))}
        </Table.Tbody>
      </Table>
      {decisions.isLoading && <Loader size="sm" />}
      {decisions.isSuccess && rows.length === 0 && <Text c="dimmed">No decisions match.</Text>}
      <LoadMore query={decisions} />
    </Stack>
  );
}

function DecisionRow({ row, ruleNames }: { row: DecisionSummary; ruleNames: Map<string, string> }) {
  return (
    <Table.Tr>
      <Table.Td>
        <RouterAnchor to="/decisions/$decisionId" params={{ decisionId: row.decision_id }}>
          {row.decision_id}
        </RouterAnchor>
      </Table.Td>
      <Table.Td>{when(row.created_at)}</Table.Td>
      <Table.Td>
        <ActionBadge action={row.action} />
      </Table.Td>
      <Table.Td>{row.score ?? '—'}</Table.Td>
      <Table.Td>{row.event_type}</Table.Td>
      <Table.Td>
        {row.user_id ? (
          <RouterAnchor to="/users/$userId" params={{ userId: row.user_id }}>
            {row.user_id}
          </RouterAnchor>
        ) : (
          '—'
        )}
      </Table.Td>
      <Table.Td>
        <RuleBadges ids={row.matched_rules} names={ruleNames} />
      </Table.Td>
      <Table.Td>
        {row.case_id ? (
          <RouterAnchor to="/cases/$caseId" params={{ caseId: row.case_id }}>
            {row.case_id}
          </RouterAnchor>
        ) : (
          '—'
        )}
      </Table.Td>
    </Table.Tr>
  );
}

/** One decision without a case: what was decided, why, on what, and about whom. */
export function DecisionPage() {
  const { decisionId } = useParams({ from: '/decisions/$decisionId' });
  const found = useQuery({ queryKey: ['decision', decisionId], queryFn: () => api.decision(decisionId) });
  if (found.error) return <ErrorNote error={found.error} />;
  if (!found.data) return <Loader />;
  const d = found.data;
  return (
    <Stack>
      <Group gap="sm">
        <Title order={3}>{d.decision_id}</Title>
        <ActionBadge action={d.action} />
        {d.case_id && (
          <RouterAnchor to="/cases/$caseId" params={{ caseId: d.case_id }}>
            its case {d.case_id}
          </RouterAnchor>
        )}
      </Group>
      <Text c="dimmed">
        {d.event_type} {d.event_id} · {when(d.created_at)}
        {d.tags.length ? ` · tags ${d.tags.join(', ')}` : ''}
      </Text>
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Stack>
            <DecisionCard decisionId={d.decision_id} />
            <FeaturesCard decisionId={d.decision_id} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          {d.user_id ? (
            <UserCard userId={d.user_id} link />
          ) : (
            <Card withBorder>
              <Heading>User</Heading>
              <Text c="dimmed">The event named no user.</Text>
            </Card>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
