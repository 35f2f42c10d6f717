import {
  Badge,
  Group,
  NumberInput,
  SegmentedControl,
  Select,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useState } from 'react';
import { api, type Case, type CaseFilters, DECISION_EVENT_TYPES } from '../api.js';
import {
  ErrorNote,
  LoadMore,
  money,
  RouterAnchor,
  RuleBadges,
  TableHead,
  useCursorPages,
  useRuleNames,
  when,
} from '../components.js';
import { useSession } from '../session.js';

/** The review queue: cases not closed, oldest first, filtered, a page at a time. */
export function QueuePage() {
  const [minScore, setMinScore] = useState<number | ''>('');
  const [eventType, setEventType] = useState<string | null>(null);
  const [assignee, setAssignee] = useState('any');
  const [escalated, setEscalated] = useState('any');
  const [country, setCountry] = useState('');
  const filters: CaseFilters = {
    min_score: minScore === '' ? undefined : minScore,
    event_type: eventType ?? undefined,
    assignee: assignee === 'me' || assignee === 'none' ? assignee : undefined,
    escalated: escalated === 'any' ? undefined : escalated === 'yes',
    // The API wants a two-letter code; anything shorter is still being typed.
    country: /^[A-Z]{2}$/.test(country) ? country : undefined,
  };
  const { query: cases, rows } = useCursorPages(['cases', filters], (cursor) => api.cases(filters, cursor));
  const ruleNames = useRuleNames();

  return (
    <>
      <Title order={3} mb="md">
        Review queue
      </Title>
      <Group align="end" mb="md" gap="sm">
        <NumberInput
          label="Min score"
          min={0}
          max={100}
          w={110}
          value={minScore}
          onChange={(value) => setMinScore(typeof value === 'number' ? value : '')}
        />
        <Select
          label="Event type"
          placeholder="Any"
          clearable
          w={200}
          data={[...DECISION_EVENT_TYPES]}
          value={eventType}
          onChange={setEventType}
        />
        <TextInput
          label="Country"
          placeholder="ES"
          w={90}
          maxLength={2}
          value={country}
          onChange={(event) => setCountry(event.currentTarget.value.toUpperCase())}
        />
        <div>
          <Text size="sm" fw={500}>
            Assignee
          </Text>
          <SegmentedControl
            value={assignee}
            onChange={setAssignee}
            data={[
              { value: 'any', label: 'Anyone' },
              { value: 'me', label: 'Me' },
              { value: 'none', label: 'Nobody' },
            ]}
          />
        </div>
        <div>
          <Text size="sm" fw={500}>
            Escalated
          </Text>
          <SegmentedControl
            value={escalated}
            onChange={setEscalated}
            data={[
              { value: 'any', label: 'Any' },
              { value: 'yes', label: 'Yes' },
              { value: 'no', label: 'No' },
            ]}
          />
        </div>
      </Group>
      {cases.error && <ErrorNote error={cases.error} />}
      <Table striped highlightOnHover data-testid="queue">
        <TableHead
          columns={[
            'Case',
            'Opened',
            'SLA due',
            'Score',
            'Event',
            'Amount (ref.)',
            'Country',
            'Rules',
            'Assignee',
            'Escalated',
          ]}
        />
        <Table.Tbody>
          {rows.map((row) => (
            <QueueRow key={row.id} row={row} ruleNames={ruleNames} />
          ))}
        </Table.Tbody>
      </Table>
      {cases.isSuccess && rows.length === 0 && (
        <Text c="dimmed" mt="md">
          No cases match.
        </Text>
      )}
      <LoadMore query={cases} />
    </>
  );
}

function QueueRow({ row, ruleNames }: { row: Case; ruleNames: Map<string, string> }) {
  const session = useSession();
  const mine = row.assignee === `staff:${session.staff.id}`;
  return (
    <Table.Tr>
      <Table.Td>
        <RouterAnchor to="/cases/$caseId" params={{ caseId: row.id }}>
          {row.id}
        </RouterAnchor>
      </Table.Td>
      <Table.Td>{when(row.opened_at)}</Table.Td>
      <Table.Td>
        {when(row.due_at)}{' '}
        {row.overdue && (
          <Badge color="red" size="sm">
            overdue
          </Badge>
        )}
      </Table.Td>
      <Table.Td>{row.score ?? '—'}</Table.Td>
      <Table.Td>{row.event_type}</Table.Td>
      <Table.Td>{money(row.amount_ref)}</Table.Td>
      <Table.Td>{row.country ?? '—'}</Table.Td>
      <Table.Td>
        <RuleBadges ids={row.matched_rules} names={ruleNames} />
      </Table.Td>
      <Table.Td>{mine ? 'me' : (row.assignee ?? '—')}</Table.Td>
      <Table.Td>{row.escalated ? <Badge color="grape">escalated</Badge> : ''}</Table.Td>
    </Table.Tr>
  );
}
