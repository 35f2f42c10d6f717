import { Badge, Button, Card, Code, Group, Modal, Stack, Table, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import {
  api,
  type Rule,
  type RuleAction,
  type Ruleset,
  type RulesetDiff,
  type RulesetThresholds,
} from '../api.js';
import { ErrorNote, Heading, TableHead, when } from '../components.js';

export const ACTION_COLORS: Record<RuleAction, string> = {
  allow: 'green',
  challenge: 'yellow',
  review: 'orange',
  block: 'red',
  tag: 'gray',
};
const CHANGE_COLORS = { added: 'green', removed: 'red', changed: 'blue' } as const;
const STATUS_COLORS = { draft: 'gray', live: 'green', retired: 'gray' } as const;

/** Every query a change to the draft, a publish or a rollback can make stale. */
const RULES_QUERIES = ['rules', 'rules-diff', 'ruleset', 'rulesets', 'ruleset-diff'];

/** After a change to the draft, a publish or a rollback: the draft, the diffs and the versions again. */
export function useRulesChange() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onSuccess: () =>
      Promise.all(RULES_QUERIES.map((key) => queryClient.invalidateQueries({ queryKey: [key] }))),
  });
}

/** "review 65, block 75; payout.requested: review 50, block 70". */
export function thresholdsText(thresholds: RulesetThresholds): string {
  const pair = (t: { review: number; block: number }) => `review ${t.review}, block ${t.block}`;
  return [
    pair(thresholds.default),
    ...Object.entries(thresholds.by_event_type).map(([type, t]) => `${type}: ${pair(t)}`),
  ].join('; ');
}

/**
 * A ruleset's rules. With `changes`, each rule's change against the live version; `actions` is
 * the last column (the draft's Edit and Remove).
 */
export function RulesTable({
  rules,
  changes,
  actions,
  testId,
}: {
  rules: Rule[];
  changes?: RulesetDiff | undefined;
  actions?: (rule: Rule) => ReactNode;
  testId?: string;
}) {
  const changeOf = new Map(changes?.rules.map((change) => [change.rule_id, change]));
  if (rules.length === 0) return <Text c="dimmed">No rules.</Text>;
  return (
    // A narrow window scrolls the table, not the page.
    <Table.ScrollContainer minWidth={960}>
      <Table striped data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th miw={180}>Name</Table.Th>
            {/* Room for an expression to read as code, not broken every few characters. */}
            <Table.Th miw={300}>Expression</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Mode</Table.Th>
            <Table.Th>Event types</Table.Th>
            {changes && <Table.Th>Change</Table.Th>}
            {actions && <Table.Th />}
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
                      </Badge>
                    )}
                    {change && change.fields.length > 0 && (
                      <Text size="xs" c="dimmed" mt={2}>
                        {change.fields.join(', ')}
                      </Text>
                    )}
                  </Table.Td>
                )}
                {actions && <Table.Td>{actions(rule)}</Table.Td>}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** A field of a rule as a person reads it. */
function shown(rule: Rule, field: string): string {
  const value = (rule as unknown as Record<string, unknown>)[field];
  if (Array.isArray(value)) return value.length ? value.join(', ') : 'all';
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

/**
 * What a version changed against `before` (the version before it): each rule added, removed or
 * changed, the changed fields with their old and new values, and the thresholds.
 */
function Changes({
  diff,
  after,
  before,
}: {
  diff: RulesetDiff;
  after: Ruleset;
  before: Ruleset | undefined;
}) {
  const old = new Map(before?.rules.map((rule) => [rule.id, rule]));
  const now = new Map(after.rules.map((rule) => [rule.id, rule]));
  if (diff.rules.length === 0 && !diff.thresholds_changed) {
    return <Text size="sm">No change.</Text>;
  }
  return (
    <Table data-testid="version-changes" layout="fixed">
      <Table.Thead>
        <Table.Tr>
          <Table.Th w={110}>Change</Table.Th>
          <Table.Th w={260}>Rule</Table.Th>
          <Table.Th>Before → after</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {diff.rules.map((change) => {
          const was = old.get(change.rule_id);
          const is = now.get(change.rule_id);
          return (
            <Table.Tr key={change.rule_id}>
              <Table.Td>
                <Badge variant="light" color={CHANGE_COLORS[change.change]}>
                  {change.change}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="sm" fw={500}>
                  {change.name}
                </Text>
              </Table.Td>
              <Table.Td>
                {change.change === 'changed' ? (
                  <Stack gap={4}>
                    {change.fields.map((field) => (
                      <Text size="sm" key={field} style={{ wordBreak: 'break-word' }}>
                        <Text span c="dimmed" size="sm">
                          {field}:{' '}
                        </Text>
                        {was && is ? (
                          <>
                            <Code>{shown(was, field)}</Code> → <Code>{shown(is, field)}</Code>
                          </>
                        ) : null}
                      </Text>
                    ))}
                  </Stack>
                ) : (
                  <Code style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
                    {(is ?? was)?.expression ?? ''}
                  </Code>
                )}
              </Table.Td>
            </Table.Tr>
          );
        })}
        {diff.thresholds_changed && (
          <Table.Tr>
            <Table.Td>
              <Badge variant="light" color="blue">
                changed
              </Badge>
            </Table.Td>
            <Table.Td>
              <Text size="sm" fw={500}>
                Score thresholds
              </Text>
            </Table.Td>
            <Table.Td>
              <Text size="sm">
                {before ? thresholdsText(before.thresholds) : 'the defaults'} →{' '}
                {thresholdsText(after.thresholds)}
              </Text>
            </Table.Td>
          </Table.Tr>
        )}
      </Table.Tbody>
    </Table>
  );
}

/**
 * The published versions, newest (live) first: who published each, when and why; the one opened
 * with what it changed and its rules; rolling back to one, after a confirmation.
 */
export function Versions({
  versions,
  refusal,
  draftChanged,
}: {
  versions: Ruleset[];
  refusal: string | null;
  draftChanged: boolean;
}) {
  const [picked, setPicked] = useState<number | null>(null);
  const [confirming, setConfirming] = useState<Ruleset | null>(null);
  const opened = versions.find((version) => version.version === picked);
  if (versions.length === 0) return <Text c="dimmed">Nothing published yet.</Text>;
  return (
    <Stack>
      <Table highlightOnHover data-testid="versions">
        <TableHead columns={['Version', 'Published', 'By', 'Note', 'Rules', '']} />
        <Table.Tbody>
          {versions.map((version) => (
            <Table.Tr
              key={version.version}
              onClick={() => setPicked(version.version)}
              bg={picked === version.version ? 'indigo.0' : undefined}
              style={{ cursor: 'pointer' }}
            >
              <Table.Td>
                <Group gap="xs" wrap="nowrap">
                  <Text fw={500}>{version.version}</Text>
                  <Badge size="sm" variant="light" color={STATUS_COLORS[version.status]}>
                    {version.status}
                  </Badge>
                </Group>
              </Table.Td>
              <Table.Td>{when(version.updated_at)}</Table.Td>
              <Table.Td>{version.updated_by}</Table.Td>
              <Table.Td style={{ wordBreak: 'break-word' }}>{version.note ?? ''}</Table.Td>
              <Table.Td>{version.rules.length}</Table.Td>
              <Table.Td>
                <Button
                  size="compact-xs"
                  variant="subtle"
                  color="red"
                  aria-label={`Roll back to version ${version.version}`}
                  disabled={refusal !== null || version.status === 'live'}
                  onClick={(event) => {
                    event.stopPropagation();
                    setConfirming(version);
                  }}
                >
                  Roll back to this
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {opened && (
        <VersionDetail
          ruleset={opened}
          versions={versions}
          onRollback={refusal === null && opened.status !== 'live' ? () => setConfirming(opened) : undefined}
        />
      )}
      <Modal
        opened={confirming !== null}
        onClose={() => setConfirming(null)}
        title={<Text fw={600}>Roll back to version {confirming?.version}?</Text>}
        size="lg"
      >
        {confirming && (
          <ConfirmRollback
            version={confirming}
            next={(versions[0]?.version ?? 0) + 1}
            draftChanged={draftChanged}
            onDone={() => setConfirming(null)}
          />
        )}
      </Modal>
    </Stack>
  );
}

function VersionDetail({
  ruleset,
  versions,
  onRollback,
}: {
  ruleset: Ruleset;
  versions: Ruleset[];
  onRollback: (() => void) | undefined;
}) {
  const version = ruleset.version ?? 0;
  const diff = useQuery({ queryKey: ['ruleset-diff', version], queryFn: () => api.versionDiff(version) });
  const before = versions.find((other) => other.version === diff.data?.from_version);
  return (
    <Card withBorder data-testid="version-detail">
      <Group justify="space-between" align="start">
        <div>
          <Heading>Version {version}</Heading>
          <Text size="sm" c="dimmed">
            Published {when(ruleset.updated_at)} by {ruleset.updated_by}
            {ruleset.note ? ` · ${ruleset.note}` : ''}
          </Text>
          <Text size="sm" mt={4}>
            Score thresholds: {thresholdsText(ruleset.thresholds)}
          </Text>
        </div>
        {onRollback && (
          <Button variant="light" color="red" onClick={onRollback}>
            Roll back to version {version}
          </Button>
        )}
      </Group>
      <Text fw={500} size="sm" mt="md" mb={4}>
        {diff.data?.from_version
          ? `What it changed against version ${diff.data.from_version}`
          : 'The first version: every rule added'}
      </Text>
      {diff.error && <ErrorNote error={diff.error} />}
      {diff.data && <Changes diff={diff.data} after={ruleset} before={before} />}
      <Text fw={500} size="sm" mt="md" mb={4}>
        Its rules ({ruleset.rules.length})
      </Text>
      <RulesTable rules={ruleset.rules} testId="version-rules" />
    </Card>
  );
}

function ConfirmRollback({
  version,
  next,
  draftChanged,
  onDone,
}: {
  version: Ruleset;
  next: number;
  draftChanged: boolean;
  onDone: () => void;
}) {
  const rollback = useRulesChange();
  return (
    <Stack gap="sm">
      <Text size="sm">
        Version {version.version}'s {version.rules.length} rules and its score thresholds are published again,
        as version {next}, and go live on every node. The versions in between stay in the history.
      </Text>
      <Text size="sm" c={draftChanged ? 'red' : undefined} fw={draftChanged ? 500 : undefined}>
        {draftChanged
          ? 'The draft has changes that are not published: they are replaced by this version and lost.'
          : 'The draft becomes this version too.'}
      </Text>
      {rollback.error && <ErrorNote error={rollback.error} />}
      <Group justify="end">
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button
          color="red"
          loading={rollback.isPending}
          onClick={() => rollback.mutate(() => api.rollback(version.version ?? 0), { onSuccess: onDone })}
        >
          Roll back to version {version.version}
        </Button>
      </Group>
    </Stack>
  );
}
