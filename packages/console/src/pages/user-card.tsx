import { Card, Stack, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, type UserProfile } from '../api.js';
import {
  ActionBadge,
  ErrorNote,
  Heading,
  KeyValues,
  money,
  RouterAnchor,
  TableHead,
  when,
} from '../components.js';

const LINKED_KINDS: [keyof UserProfile['linked'], string][] = [
  ['emails', 'email'],
  ['phones', 'phone'],
  ['ips', 'IP'],
  ['devices', 'device'],
  ['cards', 'card'],
  ['bank_accounts', 'bank account'],
  ['addresses', 'address'],
];

/** A user as Warden knows them: profile, verification, linked identifiers, recent events. */
export function UserCard({ userId, link = false }: { userId: string; link?: boolean }) {
  const user = useQuery({ queryKey: ['user', userId], queryFn: () => api.user(userId) });
  const u = user.data;
  return (
    <Card withBorder>
      <Heading>
        User{' '}
        {link ? (
          <RouterAnchor to="/users/$userId" params={{ userId }}>
            {userId}
          </RouterAnchor>
        ) : (
          userId
        )}
      </Heading>
      {user.error && <ErrorNote error={user.error} />}
      {u && (
        <Stack gap="sm">
          <Text size="sm">
            {u.event_count} events{u.history.complete ? '' : ' (history partly read)'} · first seen{' '}
            {when(u.first_seen)} · last seen {when(u.last_seen)} · user score{' '}
            {u.risk ? `${u.risk.score} (${u.risk.model_version})` : 'not assessed'}
          </Text>
          <Text fw={500}>Profile</Text>
          <KeyValues values={u.profile} />
          <Text fw={500}>Verification</Text>
          <KeyValues values={u.verification} />
          <Text fw={500}>Linked identifiers</Text>
          <Table>
            <TableHead columns={['Kind', 'Value', 'Events', 'Other users']} />
            <Table.Tbody>
              {LINKED_KINDS.flatMap(([key, label]) =>
                u.linked[key].map((linked) => (
                  <Table.Tr key={`${key}:${linked.value}`}>
                    <Table.Td>{label}</Table.Td>
                    <Table.Td style={{ wordBreak: 'break-all' }}>{linked.value}</Table.Td>
                    <Table.Td>{linked.event_count}</Table.Td>
                    <Table.Td c={linked.other_users > 0 ? 'red' : undefined}>{linked.other_users}</Table.Td>
                  </Table.Tr>
                )),
              )}
            </Table.Tbody>
          </Table>
          <Text fw={500}>Recent events</Text>
          <Table>
            <Table.Tbody>
              {u.recent_events.map((event) => {
                const decision = u.recent_decisions.find((d) => d.decision_id === event.decision_id);
                return (
                  <Table.Tr key={event.id}>
                    <Table.Td>{when(event.occurred_at)}</Table.Td>
                    <Table.Td>{event.type}</Table.Td>
                    <Table.Td>
                      {event.amount === null ? '' : `${money(event.amount)} ${event.currency ?? ''}`}
                    </Table.Td>
                    <Table.Td>{decision && <ActionBadge action={decision.action} />}</Table.Td>
                    <Table.Td>{decision?.reasons.map((r) => r.code).join(', ')}</Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </Card>
  );
}
