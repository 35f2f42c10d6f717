import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  MultiSelect,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  ApiError,
  api,
  type Backtest,
  CHALLENGES,
  DECISION_EVENT_TYPES,
  hasScope,
  RULE_ACTIONS,
  type Rule,
  type RuleAction,
  type RuleInput,
  type RuleMode,
  type RulesetDiff,
} from '../api.js';
import { ErrorNote, Heading, when } from '../components.js';
import { useSession } from '../session.js';

const ACTION_COLORS: Record<RuleAction, string> = {
  allow: 'green',
  challenge: 'yellow',
  review: 'orange',
  block: 'red',
  tag: 'gray',
};
const CHANGE_COLORS = { added: 'green', removed: 'red', changed: 'blue' } as const;

/**
 * The live ruleset and the draft: what publishing would change, adding a rule to the draft,
 * publishing it, and a backtest of the draft over stored decisions.
 */
export function RulesPage() {
  const session = useSession();
  // The API enforces it; the page says why before the risk manager's colleague tries.
  const refusal = hasScope(session, 'rules:write')
    ? null
    : `Your role (${session.staff.role.replace('_', ' ')}) may read rules but not change them: that needs the rules:write scope.`;
  const draft = useQuery({ queryKey: ['rules'], queryFn: api.rules });
  const diff = useQuery({ queryKey: ['rules-diff'], queryFn: api.draftDiff });
  const liveVersion = diff.data?.from_version ?? null;
  const live = useQuery({
    queryKey: ['ruleset', liveVersion],
    queryFn: () => (liveVersion === null ? null : api.ruleset(liveVersion)),
    enabled: diff.isSuccess,
  });
  const changes = diff.data ? diff.data.rules.length + (diff.data.thresholds_changed ? 1 : 0) : 0;
  return (
    <Stack>
      <Title order={3}>Rules</Title>
      {refusal && (
        <Alert color="gray" data-testid="rules-refused">
          {refusal}
        </Alert>
      )}
      <Card withBorder>
        <Heading>Draft{draft.data?.based_on ? `, based on version ${draft.data.based_on}` : ''}</Heading>
        {diff.error && <ErrorNote error={diff.error} />}
        {diff.data && <Publish diff={diff.data} refusal={refusal} />}
      </Card>
      <AddRule disabled={refusal !== null} />
      <BacktestCard disabled={refusal !== null} />
      <Tabs defaultValue="draft" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="draft">
            Draft rules{changes ? ` (${changes} change${changes === 1 ? '' : 's'})` : ''}
          </Tabs.Tab>
          <Tabs.Tab value="live">
            Live: {liveVersion === null ? 'nothing published yet' : `version ${liveVersion}`}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="draft" pt="sm">
          {draft.error && <ErrorNote error={draft.error} />}
          {draft.data && (
            <RulesTable
              rules={draft.data.data}
              changes={diff.data}
              canRemove={refusal === null}
              testId="draft-rules"
            />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="live" pt="sm" data-testid="live-ruleset">
          {live.error && <ErrorNote error={live.error} />}
          {live.data && (
            <Text size="sm" c="dimmed" mb="xs">
              Version {live.data.version}, published {when(live.data.updated_at)} by {live.data.updated_by}
              {live.data.note ? ` · ${live.data.note}` : ''}
            </Text>
          )}
          {live.data && <RulesTable rules={live.data.rules} />}
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** After a change to the draft or a publish: the draft, the diff and the live version again. */
function useRulesChange() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onSuccess: () =>
      Promise.all(
        ['rules', 'rules-diff', 'ruleset'].map((key) => queryClient.invalidateQueries({ queryKey: [key] })),
      ),
  });
}

function RulesTable({
  rules,
  changes,
  canRemove = false,
  testId,
}: {
  rules: Rule[];
  changes?: RulesetDiff | undefined;
  canRemove?: boolean;
  testId?: string;
}) {
  const remove = useRulesChange();
  const changeOf = new Map(changes?.rules.map((change) => [change.rule_id, change]));
  if (rules.length === 0) return <Text c="dimmed">No rules.</Text>;
  return (
    <>
      {remove.error && <ErrorNote error={remove.error} />}
      <Table striped data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Expression</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Mode</Table.Th>
            <Table.Th>Event types</Table.Th>
            {changes && <Table.Th>Change</Table.Th>}
            {changes && <Table.Th />}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rules.map((rule) => {
            const change = changeOf.get(rule.id);
            return (
              <Table.Tr key={rule.id}>
                <Table.Td>
                  <Text size="sm" fw={500}>
                    {rule.name}
                  </Text>
                  {rule.description && (
                    <Text size="xs" c="dimmed">
                      {rule.description}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Code style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>{rule.expression}</Code>
                </Table.Td>
                <Table.Td>
                  <Badge color={ACTION_COLORS[rule.action]}>
                    {rule.action}
                    {rule.challenge ? `: ${rule.challenge}` : ''}
                    {rule.tag ? `: ${rule.tag}` : ''}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Badge variant={rule.mode === 'active' ? 'filled' : 'outline'} color="gray">
                    {rule.mode}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Text size="xs">{rule.event_types.length ? rule.event_types.join(', ') : 'all'}</Text>
                </Table.Td>
                {changes && (
                  <Table.Td>
                    {change && (
                      <Badge variant="light" color={CHANGE_COLORS[change.change]}>
                        {change.change}
                        {change.fields.length ? `: ${change.fields.join(', ')}` : ''}
                      </Badge>
                    )}
                  </Table.Td>
                )}
                {changes && (
                  <Table.Td>
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red"
                      aria-label={`Remove ${rule.name} from the draft`}
                      disabled={!canRemove || remove.isPending}
                      onClick={() => remove.mutate(() => api.deleteRule(rule.id))}
                    >
                      Remove
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </>
  );
}

/** What publishing changes, with rules removed from the draft (not in its table), and the button. */
function Publish({ diff, refusal }: { diff: RulesetDiff; refusal: string | null }) {
  const publish = useRulesChange();
  const [note, setNote] = useState('');
  const removed = diff.rules.filter((change) => change.change === 'removed');
  const unchanged = diff.rules.length === 0 && !diff.thresholds_changed;
  return (
    <Stack gap="xs" mb="sm">
      <Text size="sm" data-testid="draft-changes">
        {unchanged
          ? 'The draft is the same as the live version: nothing to publish.'
          : `Publishing changes ${diff.rules.length} rule${diff.rules.length === 1 ? '' : 's'}` +
            `${diff.thresholds_changed ? ' and the score thresholds' : ''}.`}
        {removed.length > 0 && ` Removed: ${removed.map((change) => change.name).join(', ')}.`}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          publish.mutate(() => api.publish(note.trim()), { onSuccess: () => setNote('') });
        }}
      >
        <Group align="end">
          <TextInput
            label="Note for the new version"
            style={{ flex: 1, maxWidth: 480 }}
            maxLength={500}
            value={note}
            disabled={refusal !== null || unchanged}
            onChange={(event) => setNote(event.currentTarget.value)}
          />
          <Button type="submit" disabled={refusal !== null || unchanged} loading={publish.isPending}>
            Publish the draft
          </Button>
        </Group>
      </form>
      {publish.error && <ErrorNote error={publish.error} />}
    </Stack>
  );
}

function AddRule({ disabled }: { disabled: boolean }) {
  const add = useRulesChange();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [expression, setExpression] = useState('');
  const [action, setAction] = useState<RuleAction>('review');
  const [challenge, setChallenge] = useState<string>('3ds');
  const [tag, setTag] = useState('');
  const [mode, setMode] = useState<RuleMode>('active');
  const [eventTypes, setEventTypes] = useState<string[]>([]);
  // The expression as sent: the error's position is an offset into it, not into what is typed since.
  const [sent, setSent] = useState('');
  const submit = () => {
    const rule: RuleInput = {
      name: name.trim(),
      expression,
      action,
      mode,
      ...(description.trim() ? { description: description.trim() } : {}),
      ...(eventTypes.length ? { event_types: eventTypes } : {}),
      ...(action === 'challenge' ? { challenge } : {}),
      ...(action === 'tag' ? { tag: tag.trim() } : {}),
    };
    setSent(expression);
    add.mutate(() => api.createRule(rule), {
      onSuccess: () => {
        setName('');
        setDescription('');
        setExpression('');
        setEventTypes([]);
      },
    });
  };
  const position = add.error instanceof ApiError ? add.error.position : null;
  return (
    <Card withBorder>
      <Heading>Add a rule to the draft</Heading>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <Stack gap="sm">
          <Group align="end">
            <TextInput
              label="Name"
              required
              w={300}
              maxLength={100}
              value={name}
              disabled={disabled}
              onChange={(event) => setName(event.currentTarget.value)}
            />
            <TextInput
              label="Description"
              style={{ flex: 1 }}
              maxLength={1000}
              value={description}
              disabled={disabled}
              onChange={(event) => setDescription(event.currentTarget.value)}
            />
          </Group>
          <Textarea
            label="Expression (CEL over the attribute catalogue, yielding a bool)"
            required
            autosize
            minRows={2}
            maxLength={4000}
            styles={{ input: { fontFamily: 'monospace' } }}
            value={expression}
            disabled={disabled}
            onChange={(event) => setExpression(event.currentTarget.value)}
          />
          <Group align="end">
            <Select
              label="Action"
              w={140}
              data={[...RULE_ACTIONS]}
              value={action}
              allowDeselect={false}
              disabled={disabled}
              onChange={(picked) => picked && setAction(picked as RuleAction)}
            />
            {action === 'challenge' && (
              <Select
                label="Challenge"
                w={200}
                data={[...CHALLENGES]}
                value={challenge}
                allowDeselect={false}
                disabled={disabled}
                onChange={(picked) => picked && setChallenge(picked)}
              />
            )}
            {action === 'tag' && (
              <TextInput
                label="Tag"
                required
                w={200}
                value={tag}
                disabled={disabled}
                onChange={(event) => setTag(event.currentTarget.value)}
              />
            )}
            <Select
              label="Mode"
              w={140}
              data={[
                { value: 'active', label: 'active' },
                { value: 'shadow', label: 'shadow' },
              ]}
              value={mode}
              allowDeselect={false}
              disabled={disabled}
              onChange={(picked) => picked && setMode(picked as RuleMode)}
            />
            <MultiSelect
              label="Event types (none: all)"
              style={{ flex: 1 }}
              data={[...DECISION_EVENT_TYPES]}
              value={eventTypes}
              disabled={disabled}
              onChange={setEventTypes}
            />
            <Button
              type="submit"
              disabled={disabled || !name.trim() || !expression.trim()}
              loading={add.isPending}
            >
              Add to the draft
            </Button>
          </Group>
        </Stack>
      </form>
      {add.error && <ErrorNote error={add.error} />}
      {position && <ErrorSpot expression={sent} start={position.start} end={position.end} />}
    </Card>
  );
}

/** The expression as sent, with the part Warden refused marked. */
function ErrorSpot({ expression, start, end }: { expression: string; start: number; end: number }) {
  return (
    <div data-testid="expression-error">
      <Text size="sm" mb={4}>
        At characters {start}–{end}:
      </Text>
      <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
        {expression.slice(0, start)}
        <mark style={{ background: '#ffc9c9', textDecoration: 'underline wavy #e03131' }}>
          {expression.slice(start, end) || ' '}
        </mark>
        {expression.slice(end)}
      </Code>
    </div>
  );
}

/** datetime-local's format, in the browser's time zone. */
function localInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function BacktestCard({ disabled }: { disabled: boolean }) {
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 30 * 86_400_000)));
  // The input has minutes only: the next minute, so the decisions of this one are in the range.
  const [to, setTo] = useState(() => localInput(new Date(Date.now() + 60_000)));
  const [id, setId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => api.startBacktest(new Date(from).toISOString(), new Date(to).toISOString()),
    onSuccess: (backtest) => setId(backtest.id),
  });
  // Polled once a second while it runs.
  const backtest = useQuery({
    queryKey: ['backtest', id],
    queryFn: () => api.backtest(id ?? ''),
    enabled: id !== null,
    refetchInterval: (query) => (query.state.data?.status === 'running' ? 1000 : false),
  });
  return (
    <Card withBorder>
      <Heading>Backtest the draft</Heading>
      <Text size="sm" c="dimmed" mb="xs">
        Replays the draft over the decisions stored in the range and compares its actions with those taken,
        and with what was later labelled fraud.
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          start.mutate();
        }}
      >
        <Group align="end">
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
            disabled={disabled || !from || !to || backtest.data?.status === 'running'}
            loading={start.isPending}
          >
            Start backtest
          </Button>
        </Group>
      </form>
      {start.error && <ErrorNote error={start.error} />}
      {backtest.error && <ErrorNote error={backtest.error} />}
      {backtest.data && <BacktestResult backtest={backtest.data} />}
    </Card>
  );
}

function BacktestResult({ backtest }: { backtest: Backtest }) {
  const report = backtest.report;
  // Rules that matched nothing and failed nowhere say nothing: counted, not listed.
  const matched = report?.rules.filter((rule) => rule.matches > 0 || rule.errors > 0) ?? [];
  return (
    <Stack gap="sm" mt="md" data-testid="backtest">
      <Group gap="sm">
        <Badge color={{ running: 'blue', done: 'green', failed: 'red' }[backtest.status]}>
          {backtest.status}
        </Badge>
        <Text size="sm" c="dimmed">
          {backtest.id} · {when(backtest.from)} to {when(backtest.to)} · started {when(backtest.created_at)}
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
                    <Table.Th>With the draft</Table.Th>
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
                  None: the draft decides these as they were decided.
                </Text>
              ) : (
                <Table>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>From → to</Table.Th>
                      <Table.Th>Decisions</Table.Th>
                      <Table.Th>Fraud</Table.Th>
                      <Table.Th>Legitimate</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
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
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Rule</Table.Th>
                  <Table.Th>Mode</Table.Th>
                  <Table.Th>Matches</Table.Th>
                  <Table.Th>Of them fraud</Table.Th>
                  <Table.Th>Of them legitimate</Table.Th>
                  <Table.Th>Decided</Table.Th>
                  <Table.Th>Changed</Table.Th>
                  <Table.Th>Errors</Table.Th>
                </Table.Tr>
              </Table.Thead>
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
