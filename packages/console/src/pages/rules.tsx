import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Modal,
  MultiSelect,
  NumberInput,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import {
  ApiError,
  api,
  CHALLENGES,
  DECISION_EVENT_TYPES,
  hasScope,
  RULE_ACTIONS,
  type Rule,
  type RuleAction,
  type RuleInput,
  type RuleMode,
  type RulePatch,
  type RulesetDiff,
  type RulesetThresholds,
} from '../api.js';
import { ErrorNote, Heading, TableHead, when } from '../components.js';
import { useSession } from '../session.js';
import { BacktestCard } from './backtests.js';
import { RulesTable, thresholdsText, useRulesChange, Versions } from './rule-versions.js';

/**
 * The draft and the published versions: what publishing would change, adding, editing and
 * removing the draft's rules, its score thresholds, publishing it, the versions' history with
 * rollback, and backtests of the draft or a version over stored decisions.
 */
export function RulesPage() {
  const session = useSession();
  // The API enforces it; the page says why before the risk manager's colleague tries.
  const refusal = hasScope(session, 'rules:write')
    ? null
    : `Your role (${session.staff.role.replace('_', ' ')}) may read rules but not change them: that needs the rules:write scope.`;
  const draft = useQuery({ queryKey: ['ruleset', 'draft'], queryFn: api.draft });
  const diff = useQuery({ queryKey: ['rules-diff'], queryFn: api.draftDiff });
  const versions = useQuery({ queryKey: ['rulesets'], queryFn: api.rulesets });
  const live = versions.data?.data.find((version) => version.status === 'live') ?? null;
  const liveVersion = live?.version ?? diff.data?.from_version ?? null;
  const [editing, setEditing] = useState<Rule | null>(null);
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
      {draft.data && (
        <ThresholdsCard
          // A new draft (saved, published, rolled back) starts the form again from what it holds.
          key={JSON.stringify(draft.data.thresholds)}
          thresholds={draft.data.thresholds}
          live={live?.thresholds ?? null}
          changed={diff.data?.thresholds_changed ?? false}
          disabled={refusal !== null}
        />
      )}
      <AddRule disabled={refusal !== null} />
      <BacktestCard disabled={refusal !== null} versions={versions.data?.data ?? []} />
      <Tabs defaultValue="draft" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="draft">
            Draft rules{changes ? ` (${changes} change${changes === 1 ? '' : 's'})` : ''}
          </Tabs.Tab>
          <Tabs.Tab value="live">
            Live: {liveVersion === null ? 'nothing published yet' : `version ${liveVersion}`}
          </Tabs.Tab>
          <Tabs.Tab value="history">History{versions.data ? ` (${versions.data.data.length})` : ''}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="draft" pt="sm">
          {draft.error && <ErrorNote error={draft.error} />}
          {draft.data && (
            <DraftRules
              rules={draft.data.rules}
              changes={diff.data}
              refusal={refusal}
              onEdit={(rule) => setEditing(rule)}
            />
          )}
        </Tabs.Panel>
        <Tabs.Panel value="live" pt="sm" data-testid="live-ruleset">
          {versions.error && <ErrorNote error={versions.error} />}
          {live && (
            <Text size="sm" c="dimmed" mb="xs">
              Version {live.version}, published {when(live.updated_at)} by {live.updated_by}
              {live.note ? ` · ${live.note}` : ''} · score thresholds: {thresholdsText(live.thresholds)}
            </Text>
          )}
          {live && <RulesTable rules={live.rules} />}
        </Tabs.Panel>
        <Tabs.Panel value="history" pt="sm">
          {versions.error && <ErrorNote error={versions.error} />}
          {versions.data && (
            <Versions versions={versions.data.data} refusal={refusal} draftChanged={changes > 0} />
          )}
        </Tabs.Panel>
      </Tabs>
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={<Text fw={600}>Edit {editing?.name} in the draft</Text>}
        size="xl"
      >
        {editing && <EditRule rule={editing} onDone={() => setEditing(null)} />}
      </Modal>
    </Stack>
  );
}

/** The draft's rules with each one's change against the live version, Edit and Remove. */
function DraftRules({
  rules,
  changes,
  refusal,
  onEdit,
}: {
  rules: Rule[];
  changes: RulesetDiff | undefined;
  refusal: string | null;
  onEdit: (rule: Rule) => void;
}) {
  const remove = useRulesChange();
  return (
    <>
      {remove.error && <ErrorNote error={remove.error} />}
      <RulesTable
        rules={rules}
        changes={changes ?? { from_version: null, to: 'draft', rules: [], thresholds_changed: false }}
        testId="draft-rules"
        actions={(rule) => (
          <Group gap={4} wrap="nowrap">
            <Button
              size="compact-xs"
              variant="subtle"
              aria-label={`Edit ${rule.name}`}
              disabled={refusal !== null}
              onClick={() => onEdit(rule)}
            >
              Edit
            </Button>
            <Button
              size="compact-xs"
              variant="subtle"
              color="red"
              aria-label={`Remove ${rule.name} from the draft`}
              disabled={refusal !== null || remove.isPending}
              onClick={() => remove.mutate(() => api.deleteRule(rule.id))}
            >
              Remove
            </Button>
          </Group>
        )}
      />
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

/** A threshold as typed: a number, or '' while the field is empty. */
type Typed = number | string;
interface ThresholdRow {
  /** 'default', or a decision event type. */
  type: string;
  review: Typed;
  block: Typed;
}

const rowsOf = (thresholds: RulesetThresholds): ThresholdRow[] => [
  { type: 'default', ...thresholds.default },
  ...Object.entries(thresholds.by_event_type).map(([type, t]) => ({ type, ...t })),
];

/** The draft's score thresholds: the default and an override per event type; Warden checks them. */
function ThresholdsCard({
  thresholds,
  live,
  changed,
  disabled,
}: {
  thresholds: RulesetThresholds;
  live: RulesetThresholds | null;
  changed: boolean;
  disabled: boolean;
}) {
  const save = useRulesChange();
  const [rows, setRows] = useState(() => rowsOf(thresholds));
  const set = (type: string, field: 'review' | 'block', value: Typed) =>
    setRows(rows.map((row) => (row.type === type ? { ...row, [field]: value } : row)));
  const typed = rows.every((row) => typeof row.review === 'number' && typeof row.block === 'number');
  const asSent = (): RulesetThresholds => {
    const pair = (row: ThresholdRow) => ({ review: Number(row.review), block: Number(row.block) });
    const [first, ...others] = rows;
    return {
      default: first ? pair(first) : thresholds.default,
      by_event_type: Object.fromEntries(others.map((row) => [row.type, pair(row)])),
    };
  };
  const edited = JSON.stringify(rowsOf(thresholds)) !== JSON.stringify(rows);
  // Warden's pointer: /default or /by_event_type/<type>.
  const refused =
    save.error instanceof ApiError && save.error.field
      ? save.error.field.replace(/^\/by_event_type/, '').split('/')[1]
      : undefined;
  const free = DECISION_EVENT_TYPES.filter((type) => !rows.some((row) => row.type === type));
  return (
    <Card withBorder data-testid="thresholds">
      <Group gap="sm" mb="xs">
        <Text fw={600} size="lg">
          Score thresholds
        </Text>
        {changed && (
          <Badge variant="light" color="blue">
            changed in the draft
          </Badge>
        )}
      </Group>
      <Text size="sm" c="dimmed" mb="xs">
        A score at or above the review threshold sends the decision to review, at or above the block threshold
        blocks it (0–100; 101 never). Event types without their own use the default.
        {live ? ` Live: ${thresholdsText(live)}.` : ''}
      </Text>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate(() => api.setThresholds(asSent()));
        }}
      >
        <Table w="auto" withRowBorders={false} verticalSpacing={4}>
          <TableHead columns={['Event type', 'Review at', 'Block at', '']} />
          <Table.Tbody>
            {rows.map((row) => (
              <Table.Tr key={row.type}>
                <Table.Td>
                  <Text size="sm" fw={row.type === 'default' ? 500 : undefined}>
                    {row.type === 'default' ? 'Default' : row.type}
                  </Text>
                </Table.Td>
                {(['review', 'block'] as const).map((field) => (
                  <Table.Td key={field}>
                    <NumberInput
                      w={110}
                      aria-label={`${field === 'review' ? 'Review' : 'Block'} at, ${row.type}`}
                      allowDecimal={false}
                      allowNegative={false}
                      clampBehavior="none"
                      value={row[field]}
                      error={refused === row.type}
                      disabled={disabled}
                      onChange={(value) => set(row.type, field, value)}
                    />
                  </Table.Td>
                ))}
                <Table.Td>
                  {row.type !== 'default' && (
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red"
                      aria-label={`Remove the thresholds of ${row.type}`}
                      disabled={disabled}
                      onClick={() => setRows(rows.filter((other) => other.type !== row.type))}
                    >
                      Remove
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Group align="end" mt="xs">
          <Select
            placeholder="Add thresholds for an event type"
            aria-label="Add thresholds for an event type"
            w={300}
            data={free}
            value={null}
            disabled={disabled || free.length === 0}
            onChange={(type) => {
              const first = rows[0];
              if (type && first) setRows([...rows, { type, review: first.review, block: first.block }]);
            }}
          />
          <Button type="submit" disabled={disabled || !edited || !typed} loading={save.isPending}>
            Save the thresholds
          </Button>
          {edited && (
            <Button variant="subtle" disabled={disabled} onClick={() => setRows(rowsOf(thresholds))}>
              Undo changes
            </Button>
          )}
        </Group>
      </form>
      {save.error && <ErrorNote error={save.error} />}
    </Card>
  );
}

/** A rule as the form holds it. */
interface RuleValues {
  name: string;
  description: string;
  expression: string;
  action: RuleAction;
  challenge: string;
  tag: string;
  mode: RuleMode;
  event_types: string[];
}

function toInput(values: RuleValues): RuleInput {
  return {
    name: values.name,
    expression: values.expression,
    action: values.action,
    mode: values.mode,
    ...(values.description ? { description: values.description } : {}),
    ...(values.event_types.length ? { event_types: values.event_types } : {}),
    ...(values.action === 'challenge' ? { challenge: values.challenge } : {}),
    ...(values.action === 'tag' ? { tag: values.tag } : {}),
  };
}

/** Only the fields that differ from the rule, so the audit log names what changed. */
function toPatch(rule: Rule, values: RuleValues): RulePatch {
  const patch: RulePatch = {};
  if (values.name !== rule.name) patch.name = values.name;
  if (values.description !== rule.description) patch.description = values.description;
  if (values.expression !== rule.expression) patch.expression = values.expression;
  if (values.action !== rule.action) patch.action = values.action;
  if (values.mode !== rule.mode) patch.mode = values.mode;
  if (JSON.stringify(values.event_types) !== JSON.stringify(rule.event_types)) {
    patch.event_types = values.event_types;
  }
  if (values.action === 'challenge' && values.challenge !== rule.challenge)
    patch.challenge = values.challenge;
  if (values.action === 'tag' && values.tag !== rule.tag) patch.tag = values.tag;
  return patch;
}

function AddRule({ disabled }: { disabled: boolean }) {
  const add = useRulesChange();
  // A new form after each rule added: its fields start empty again.
  const [added, setAdded] = useState(0);
  return (
    <Card withBorder>
      <Heading>Add a rule to the draft</Heading>
      <RuleForm
        key={added}
        rule={null}
        disabled={disabled}
        submitLabel="Add to the draft"
        pending={add.isPending}
        error={add.error}
        onSubmit={(values) =>
          add.mutate(() => api.createRule(toInput(values)), { onSuccess: () => setAdded(added + 1) })
        }
      />
    </Card>
  );
}

/** A draft rule changed in place: the same id, so its history and the cases naming it follow. */
function EditRule({ rule, onDone }: { rule: Rule; onDone: () => void }) {
  const edit = useRulesChange();
  return (
    <RuleForm
      rule={rule}
      disabled={false}
      submitLabel="Save the rule"
      pending={edit.isPending}
      error={edit.error}
      unchanged={(values) => Object.keys(toPatch(rule, values)).length === 0}
      onSubmit={(values) =>
        edit.mutate(() => api.updateRule(rule.id, toPatch(rule, values)), { onSuccess: onDone })
      }
      onCancel={onDone}
    />
  );
}

/**
 * A rule's fields, empty or as `rule` has them. A refused expression shows Warden's message and
 * the spot it points at; the field Warden names is marked.
 */
function RuleForm({
  rule,
  disabled,
  submitLabel,
  pending,
  error,
  unchanged,
  onSubmit,
  onCancel,
}: {
  rule: Rule | null;
  disabled: boolean;
  submitLabel: string;
  pending: boolean;
  error: unknown;
  unchanged?: (values: RuleValues) => boolean;
  onSubmit: (values: RuleValues) => void;
  onCancel?: () => void;
}) {
  const [name, setName] = useState(rule?.name ?? '');
  const [description, setDescription] = useState(rule?.description ?? '');
  const [expression, setExpression] = useState(rule?.expression ?? '');
  const [action, setAction] = useState<RuleAction>(rule?.action ?? 'review');
  const [challenge, setChallenge] = useState<string>(rule?.challenge ?? '3ds');
  const [tag, setTag] = useState(rule?.tag ?? '');
  const [mode, setMode] = useState<RuleMode>(rule?.mode ?? 'active');
  const [eventTypes, setEventTypes] = useState<string[]>(rule?.event_types ?? []);
  // The expression as sent: the error's position is an offset into it, not into what is typed since.
  const [sent, setSent] = useState('');
  const values: RuleValues = {
    name: name.trim(),
    description: description.trim(),
    expression,
    action,
    challenge,
    tag: tag.trim(),
    mode,
    event_types: eventTypes,
  };
  const refused = error instanceof ApiError ? error : null;
  const marked = (field: string) => refused?.field === field;
  return (
    <>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setSent(expression);
          onSubmit(values);
        }}
      >
        <Stack gap="sm">
          <Group align="start">
            <TextInput
              label="Name"
              required
              w={300}
              maxLength={100}
              value={name}
              error={marked('/name')}
              disabled={disabled}
              onChange={(event) => setName(event.currentTarget.value)}
            />
            <Textarea
              label="Description"
              style={{ flex: 1 }}
              autosize
              minRows={1}
              maxRows={4}
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
            error={marked('/expression')}
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
                error={marked('/challenge')}
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
                error={marked('/tag')}
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
              miw={240}
              data={[...DECISION_EVENT_TYPES]}
              value={eventTypes}
              disabled={disabled}
              onChange={setEventTypes}
            />
          </Group>
          <Text size="xs" c="dimmed">
            A shadow rule is evaluated and recorded in each decision's reasons, but does not change the
            action: a way to watch a rule before it acts.
          </Text>
          <Group>
            <Button
              type="submit"
              disabled={disabled || !values.name || !expression.trim() || (unchanged?.(values) ?? false)}
              loading={pending}
            >
              {submitLabel}
            </Button>
            {onCancel && (
              <Button variant="default" onClick={onCancel}>
                Cancel
              </Button>
            )}
          </Group>
        </Stack>
      </form>
      {error ? <ErrorNote error={error} /> : null}
      {refused?.position && (
        <ErrorSpot expression={sent} start={refused.position.start} end={refused.position.end} />
      )}
    </>
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
