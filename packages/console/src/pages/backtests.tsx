import {
  Badge,
  Button,
  Card,
  Divider,
  Group,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, type Backtest, type Ruleset } from '../api.js';
import { ErrorNote, Heading, localInput, TableHead, when } from '../components.js';

const STATUS_COLORS = { running: 'blue', done: 'green', failed: 'red' } as const;
const RECENT_SHOWN = 10;

/** "the draft" or "version 3", as a backtest names what it replayed. */
const rulesetName = (ruleset: string) => (ruleset === 'draft' ? 'the draft' : `version ${ruleset}`);

/**
 * Backtests: replaying the draft or a published version over the decisions stored in a time range
 * (needs rules:write), the recent ones, and the report of the one started or opened.
 */
export function BacktestCard({ disabled, versions }: { disabled: boolean; versions: Ruleset[] }) {
  const queryClient = useQueryClient();
  const [ruleset, setRuleset] = useState('draft');
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 30 * 86_400_000)));
  // The input has minutes only: the next minute, so the decisions of this one are in the range.
  const [to, setTo] = useState(() => localInput(new Date(Date.now() + 60_000)));
  const [id, setId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () =>
      api.startBacktest(
        new Date(from).toISOString(),
        new Date(to).toISOString(),
        ruleset === 'draft' ? 'draft' : Number(ruleset),
      ),
    onSuccess: (backtest) => {
      setId(backtest.id);
      return queryClient.invalidateQueries({ queryKey: ['backtests'] });
    },
  });
  // Polled once a second while it runs.
  const backtest = useQuery({
    queryKey: ['backtest', id],
    queryFn: () => api.backtest(id ?? ''),
    enabled: id !== null,
    refetchInterval: (query) => (query.state.data?.status === 'running' ? 1000 : false),
  });
  const status = backtest.data?.status;
  // The list shows the one picked as it ends.
  useEffect(() => {
    if (status && status !== 'running') void queryClient.invalidateQueries({ queryKey: ['backtests'] });
  }, [status, queryClient]);
  return (
    <Card withBorder>
      <Heading>Backtests</Heading>
      <Text size="sm" c="dimmed" mb="xs">
        Replays the draft or a published version over the decisions stored in the range and compares its
        actions with those taken, and with what was later labelled fraud.
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          start.mutate();
        }}
      >
        <Group align="end">
          <Select
            label="Replay"
            w={220}
            data={[
              { value: 'draft', label: 'The draft' },
              ...versions.map((version) => ({
                value: String(version.version),
                label: `Version ${version.version}${version.status === 'live' ? ' (live)' : ''}`,
              })),
            ]}
            value={ruleset}
            allowDeselect={false}
            disabled={disabled}
            onChange={(picked) => picked && setRuleset(picked)}
          />
          <TextInput
            label="From"
            type="datetime-local"
            value={from}
            disabled={disabled}
            onChange={(event) => setFrom(event.currentTarget.value)}
          />
          <TextInput
            label="To"
            type="datetime-local"
            value={to}
            disabled={disabled}
            onChange={(event) => setTo(event.currentTarget.value)}
          />
          <Button
            type="submit"
            variant="light"
            disabled={disabled || !from || !to || status === 'running'}
            loading={start.isPending}
          >
            Start backtest
          </Button>
        </Group>
      </form>
      {start.error && <ErrorNote error={start.error} />}
      {backtest.error && <ErrorNote error={backtest.error} />}
      {backtest.data && <BacktestResult backtest={backtest.data} />}
      <RecentBacktests picked={id} onPick={setId} />
    </Card>
  );
}

/** The last backtests, newest first; a click opens one's report above. */
function RecentBacktests({ picked, onPick }: { picked: string | null; onPick: (id: string) => void }) {
  const recent = useQuery({
    queryKey: ['backtests'],
    queryFn: api.backtests,
    refetchInterval: (query) =>
      query.state.data?.data.some((backtest) => backtest.status === 'running') ? 2000 : false,
  });
  const [all, setAll] = useState(false);
  const rows = recent.data?.data ?? [];
  return (
    <Stack gap={4} mt="md">
      <Divider mb="sm" />
      <Text fw={500} size="sm">
        Recent backtests
      </Text>
      {recent.error && <ErrorNote error={recent.error} />}
      {recent.isSuccess && rows.length === 0 && (
        <Text size="sm" c="dimmed">
          None yet.
        </Text>
      )}
      {rows.length > 0 && (
        <Table highlightOnHover data-testid="recent-backtests">
          <TableHead
            columns={[
              'Started',
              'Replayed',
              'Decisions made between',
              'Status',
              'Decisions',
              'Changed',
              'By',
            ]}
          />
          <Table.Tbody>
            {(all ? rows : rows.slice(0, RECENT_SHOWN)).map((backtest) => (
              <Table.Tr
                key={backtest.id}
                onClick={() => onPick(backtest.id)}
                bg={picked === backtest.id ? 'indigo.0' : undefined}
                style={{ cursor: 'pointer' }}
              >
                <Table.Td>{when(backtest.created_at)}</Table.Td>
                <Table.Td>{rulesetName(backtest.ruleset)}</Table.Td>
                <Table.Td>
                  {when(backtest.from)} and {when(backtest.to)}
                </Table.Td>
                <Table.Td>
                  <Badge size="sm" color={STATUS_COLORS[backtest.status]}>
                    {backtest.status}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {backtest.report?.decisions ?? `${backtest.processed} of ${backtest.total}`}
                </Table.Td>
                <Table.Td>
                  {backtest.report
                    ? backtest.report.changes.reduce((sum, change) => sum + change.count, 0)
                    : ''}
                </Table.Td>
                <Table.Td>{backtest.created_by}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {!all && rows.length > RECENT_SHOWN && (
        <Button variant="subtle" size="compact-sm" w="fit-content" onClick={() => setAll(true)}>
          Show all {rows.length}
        </Button>
      )}
    </Stack>
  );
}

/** A backtest's progress while it runs, and its report: actions, changed decisions, each rule. */
function BacktestResult({ backtest }: { backtest: Backtest }) {
  const report = backtest.report;
  // Rules that matched nothing and failed nowhere say nothing: counted, not listed.
  const matched = report?.rules.filter((rule) => rule.matches > 0 || rule.errors > 0) ?? [];
  return (
    <Stack gap="sm" mt="md" data-testid="backtest">
      <Group gap="sm">
        <Badge color={STATUS_COLORS[backtest.status]}>{backtest.status}</Badge>
        <Text size="sm" c="dimmed">
          {backtest.id} · {rulesetName(backtest.ruleset)} · {when(backtest.from)} to {when(backtest.to)} ·
          started {when(backtest.created_at)} by {backtest.created_by}
        </Text>
      </Group>
      {backtest.status === 'running' && (
        <Progress value={backtest.total ? (100 * backtest.processed) / backtest.total : 0} animated />
      )}
      {backtest.error && <ErrorNote error={new Error(backtest.error)} title="The backtest failed" />}
      {report && (
        <>
          <Text size="sm">
            {report.decisions} decisions replayed in {report.elapsed_ms} ms
            {report.skipped_without_snapshot
              ? `; ${report.skipped_without_snapshot} skipped (no snapshot)`
              : ''}
            .
          </Text>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            <div>
              <Text fw={500} size="sm">
                Actions
              </Text>
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>As decided</Table.Th>
                    <Table.Th>With {rulesetName(backtest.ruleset)}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {[...new Set([...Object.keys(report.before), ...Object.keys(report.after)])].map(
                    (action) => (
                      <Table.Tr key={action}>
                        <Table.Td>{action}</Table.Td>
                        <Table.Td>{report.before[action] ?? 0}</Table.Td>
                        <Table.Td>{report.after[action] ?? 0}</Table.Td>
                      </Table.Tr>
                    ),
                  )}
                </Table.Tbody>
              </Table>
            </div>
            <div>
              <Text fw={500} size="sm">
                Changed decisions
              </Text>
              {report.changes.length === 0 ? (
                <Text size="sm" c="dimmed">
                  None: {rulesetName(backtest.ruleset)} decides these as they were decided.
                </Text>
              ) : (
                <Table>
                  <TableHead columns={['From → to', 'Decisions', 'Fraud', 'Legitimate']} />
                  <Table.Tbody>
                    {report.changes.map((change) => (
                      <Table.Tr key={`${change.from}:${change.to}`}>
                        <Table.Td>
                          {change.from} → {change.to}
                        </Table.Td>
                        <Table.Td>{change.count}</Table.Td>
                        <Table.Td>{change.fraud}</Table.Td>
                        <Table.Td>{change.legitimate}</Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </div>
          </SimpleGrid>
          <Text fw={500} size="sm">
            Per rule{' '}
            <Text span size="sm" c="dimmed">
              ({report.rules.length - matched.length} of {report.rules.length} matched nothing)
            </Text>
          </Text>
          {matched.length > 0 && (
            <Table striped>
              <TableHead
                columns={[
                  'Rule',
                  'Mode',
                  'Matches',
                  'Of them fraud',
                  'Of them legitimate',
                  'Decided',
                  'Changed',
                  'Errors',
                ]}
              />
              <Table.Tbody>
                {matched.map((rule) => (
                  <Table.Tr key={rule.rule_id}>
                    <Table.Td>{rule.name}</Table.Td>
                    <Table.Td>{rule.mode}</Table.Td>
                    <Table.Td>{rule.matches}</Table.Td>
                    <Table.Td>{rule.matched_fraud}</Table.Td>
                    <Table.Td>{rule.matched_legitimate}</Table.Td>
                    <Table.Td>{rule.decided}</Table.Td>
                    <Table.Td>{rule.changed}</Table.Td>
                    <Table.Td c={rule.errors > 0 ? 'red' : undefined}>{rule.errors}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}
    </Stack>
  );
}
