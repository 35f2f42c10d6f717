import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Grid,
  Group,
  Loader,
  Stack,
  Text,
  Textarea,
  Timeline,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useParams } from '@tanstack/react-router';
import { lazy, Suspense, useState } from 'react';
import { api, BLOCKABLE, type Blockable, type Case, type CaseNote, hasScope } from '../api.js';
import { ErrorNote, Heading, money, when } from '../components.js';
import { useSession } from '../session.js';
import { DecisionCard, FeaturesCard } from './decision-cards.js';
import { UserCard } from './user-card.js';

// cytoscape is the biggest dependency and only this card uses it: loaded with the first case.
const LinkGraphView = lazy(() => import('./link-graph.js').then((m) => ({ default: m.LinkGraphView })));

/** One case: what was decided and why, who the user is, the history, and the analyst's actions. */
export function CasePage() {
  const { caseId } = useParams({ from: '/cases/$caseId' });
  const found = useQuery({ queryKey: ['case', caseId], queryFn: () => api.case(caseId) });
  if (found.error) return <ErrorNote error={found.error} />;
  if (!found.data) return <Loader />;
  const { case: c, notes } = found.data;
  return (
    <Stack>
      <Group gap="sm">
        <Title order={3}>{c.id}</Title>
        <Badge data-testid="case-status" size="lg" color={c.status === 'closed' ? 'gray' : 'blue'}>
          {c.status}
          {c.outcome ? `: ${c.outcome}` : ''}
        </Badge>
        {c.escalated && <Badge color="grape">escalated</Badge>}
        {c.overdue && <Badge color="red">overdue</Badge>}
      </Group>
      <Text c="dimmed" size="sm">
        {c.event_type} {c.event_id} · amount {money(c.amount_ref)} · country {c.country ?? '—'} · opened{' '}
        {when(c.opened_at)} · SLA due {when(c.due_at)} · assignee {c.assignee ?? 'nobody'}
        {c.contact_deadline ? ` · shopper must answer by ${when(c.contact_deadline)}` : ''}
      </Text>
      <CaseActions c={c} />
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Stack>
            <DecisionCard decisionId={c.decision_id} />
            <FeaturesCard decisionId={c.decision_id} />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Stack>
            <NotesCard caseId={c.id} notes={notes} />
            {c.user_id && <UserCard userId={c.user_id} link />}
          </Stack>
        </Grid.Col>
      </Grid>
      {c.user_id && (
        <Card withBorder>
          <Heading>Link graph</Heading>
          <Suspense fallback={<Loader />}>
            <LinkGraphView userId={c.user_id} />
          </Suspense>
        </Card>
      )}
    </Stack>
  );
}

/**
 * Runs one case action. A decision reaches beyond the case (the queue, the block lists, the
 * user's fraud label in the graph), so afterwards everything shown is read again.
 */
function useCaseAction() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onSuccess: () => queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] !== 'session' }),
  });
}

function CaseActions({ c }: { c: Case }) {
  const session = useSession();
  const act = useCaseAction();
  const [block, setBlock] = useState<Blockable[]>([]);
  const [note, setNote] = useState('');
  const me = `staff:${session.staff.id}`;
  const heldByOther = c.assignee !== null && c.assignee !== me && c.status === 'claimed';
  // The API enforces all of this; the page says why before the analyst tries.
  const refusal = !hasScope(session, 'cases:write')
    ? `Your role (${session.staff.role}) may read cases but not work them: that needs the cases:write scope.`
    : c.status === 'closed'
      ? `This case is closed (${c.outcome ?? 'decided'}).`
      : heldByOther
        ? `${c.assignee} holds this case: they decide it, or release it.`
        : null;
  const disabled = refusal !== null || act.isPending;
  const decide = (outcome: 'accept' | 'reject' | 'contact_shopper') =>
    act.mutate(() => api.decide(c.id, { outcome, block: outcome === 'accept' ? [] : block, note }));

  return (
    <Card withBorder>
      <Heading>Actions</Heading>
      {refusal && (
        <Alert color="gray" mb="sm" data-testid="actions-refused">
          {refusal}
        </Alert>
      )}
      <Group mb="sm">
        {c.assignee === me ? (
          <Button variant="default" disabled={disabled} onClick={() => act.mutate(() => api.release(c.id))}>
            Release
          </Button>
        ) : (
          <Button variant="default" disabled={disabled} onClick={() => act.mutate(() => api.claim(c.id))}>
            Claim
          </Button>
        )}
        <Button
          variant="default"
          disabled={disabled || c.escalated}
          onClick={() => act.mutate(() => api.escalate(c.id, note))}
        >
          Escalate
        </Button>
      </Group>
      <Checkbox.Group
        label="On reject or contact shopper, block the event's"
        value={block}
        onChange={(value) => setBlock(value as Blockable[])}
      >
        <Group mt={4} mb="sm">
          {BLOCKABLE.map((kind) => (
            <Checkbox key={kind} value={kind} label={kind} disabled={disabled} />
          ))}
        </Group>
      </Checkbox.Group>
      <Textarea
        label="Note (kept with the decision, or the reason for escalating)"
        autosize
        minRows={1}
        value={note}
        disabled={disabled}
        onChange={(event) => setNote(event.currentTarget.value)}
        mb="sm"
      />
      <Group>
        <Button color="green" disabled={disabled} onClick={() => decide('accept')}>
          Accept
        </Button>
        <Button color="red" disabled={disabled} onClick={() => decide('reject')}>
          Reject
        </Button>
        <Button color="yellow" disabled={disabled} onClick={() => decide('contact_shopper')}>
          Contact shopper
        </Button>
      </Group>
      {act.error && <ErrorNote error={act.error} />}
    </Card>
  );
}

const NOTE_COLORS: Record<string, string> = { decided: 'green', escalated: 'grape', comment: 'blue' };

function NotesCard({ caseId, notes }: { caseId: string; notes: CaseNote[] }) {
  const session = useSession();
  const act = useCaseAction();
  const [text, setText] = useState('');
  const canWrite = hasScope(session, 'cases:write');
  return (
    <Card withBorder>
      <Heading>History</Heading>
      <Timeline bulletSize={14} lineWidth={2} mb="md">
        {notes.map((note) => (
          <Timeline.Item
            key={`${note.at}:${note.kind}:${note.author}`}
            color={NOTE_COLORS[note.kind] ?? 'gray'}
            title={note.kind}
          >
            {note.body && <Text size="sm">{note.body}</Text>}
            <Text size="xs" c="dimmed">
              {note.author} · {when(note.at)}
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          act.mutate(() => api.comment(caseId, text.trim()), { onSuccess: () => setText('') });
        }}
      >
        <Group align="end">
          <Textarea
            style={{ flex: 1 }}
            label="Comment"
            autosize
            minRows={1}
            value={text}
            disabled={!canWrite}
            onChange={(event) => setText(event.currentTarget.value)}
          />
          <Button type="submit" variant="light" disabled={!canWrite || !text.trim()} loading={act.isPending}>
            Add
          </Button>
        </Group>
      </form>
      {act.error && <ErrorNote error={act.error} />}
    </Card>
  );
}
