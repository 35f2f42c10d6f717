import { Button, Card, Group, Loader, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useParams, useSearch } from '@tanstack/react-router';
import { lazy, Suspense, useState } from 'react';
import { api, USER_SEARCH_KINDS, type UserSearchKind } from '../api.js';
import { ErrorNote, Heading, RouterAnchor, TableHead, when } from '../components.js';
import { UserCard } from './user-card.js';

// cytoscape is the biggest dependency: its chunk loads with the first graph, as on the case page.
const LinkGraphView = lazy(() => import('./link-graph.js').then((m) => ({ default: m.LinkGraphView })));

const KIND_LABELS: Record<UserSearchKind, string> = {
  email: 'Email',
  phone: 'Phone',
  ip: 'IP address',
  device: 'Device id',
  card: 'Card fingerprint',
  bank_account: 'Bank account (IBAN or number)',
};

/** The search is in the address (`/#/users?kind=email&value=…`), so it can be shared. */
export interface UserSearch {
  kind?: UserSearchKind | undefined;
  value?: string | undefined;
}

export function validateUserSearch(search: Record<string, unknown>): UserSearch {
  const kind = USER_SEARCH_KINDS.find((k) => k === search.kind);
  const value = typeof search.value === 'string' && search.value ? search.value : undefined;
  return { kind, value };
}

/** Users whose events named an identifier (GET /v1/users?<kind>=<value>), most recent first. */
export function UsersPage() {
  const search = useSearch({ from: '/users' });
  const navigate = useNavigate({ from: '/users' });
  const [kind, setKind] = useState<UserSearchKind>(search.kind ?? 'email');
  const [value, setValue] = useState(search.value ?? '');
  const asked = search.kind && search.value ? { kind: search.kind, value: search.value } : null;
  const found = useQuery({
    queryKey: ['users', asked?.kind, asked?.value],
    queryFn: () => (asked ? api.users(asked.kind, asked.value) : null),
    enabled: asked !== null,
  });
  return (
    <Stack>
      <Title order={3}>Users</Title>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          navigate({ search: { kind, value: value.trim() } });
        }}
      >
        <Group align="end">
          <Select
            label="Find users by"
            w={260}
            data={USER_SEARCH_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))}
            value={kind}
            allowDeselect={false}
            onChange={(picked) => picked && setKind(picked as UserSearchKind)}
          />
          <TextInput
            label="Value"
            style={{ flex: 1, maxWidth: 420 }}
            value={value}
            onChange={(event) => setValue(event.currentTarget.value)}
          />
          <Button type="submit" disabled={!value.trim()}>
            Search
          </Button>
        </Group>
      </form>
      <Text size="xs" c="dimmed">
        Warden normalises the value as it does events (an email lower-cased, a phone in E.164, an IBAN without
        spaces) and finds it by its keyed hash.
      </Text>
      {found.error && <ErrorNote error={found.error} />}
      {found.isFetching && <Loader size="sm" />}
      {found.data && (
        <>
          <Table striped highlightOnHover data-testid="user-results">
            <TableHead columns={['User', 'Events naming it', 'First seen', 'Last seen']} />
            <Table.Tbody>
              {found.data.data.map((user) => (
                <Table.Tr key={user.id}>
                  <Table.Td>
                    <RouterAnchor to="/users/$userId" params={{ userId: user.id }}>
                      {user.id}
                    </RouterAnchor>
                  </Table.Td>
                  <Table.Td>{user.events}</Table.Td>
                  <Table.Td>{when(user.first_seen)}</Table.Td>
                  <Table.Td>{when(user.last_seen)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {found.data.data.length === 0 && <Text c="dimmed">No user's events name it.</Text>}
        </>
      )}
    </Stack>
  );
}

/** One user: what the case page shows of them, without a case. */
export function UserPage() {
  const { userId } = useParams({ from: '/users/$userId' });
  return (
    <Stack>
      <Group gap="md">
        <Title order={3}>{userId}</Title>
        <RouterAnchor to="/decisions" search={{ user_id: userId }}>
          All their decisions
        </RouterAnchor>
      </Group>
      <UserCard userId={userId} />
      <Card withBorder>
        <Heading>Link graph</Heading>
        <Suspense fallback={<Loader />}>
          <LinkGraphView userId={userId} />
        </Suspense>
      </Card>
    </Stack>
  );
}
