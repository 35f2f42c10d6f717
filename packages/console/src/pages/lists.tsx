import { Alert, Badge, Button, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, hasScope } from '../api.js';
import { ErrorNote, Heading, when } from '../components.js';
import { useSession } from '../session.js';

/** Allow and block lists, and the entries of the one picked: added and removed by hand. */
export function ListsPage() {
  const lists = useQuery({ queryKey: ['lists'], queryFn: api.lists });
  const [picked, setPicked] = useState<string | null>(null);
  return (
    <Stack>
      <Title order={3}>Lists</Title>
      {lists.error && <ErrorNote error={lists.error} />}
      <Table highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Entries</Table.Th>
            <Table.Th>Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {lists.data?.data.map((list) => (
            <Table.Tr
              key={list.name}
              onClick={() => setPicked(list.name)}
              bg={picked === list.name ? 'indigo.0' : undefined}
              style={{ cursor: 'pointer' }}
            >
              <Table.Td>
                <Text fw={500}>{list.name}</Text>
                {list.description && (
                  <Text size="xs" c="dimmed">
                    {list.description}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Badge color={list.type === 'block' ? 'red' : 'green'}>{list.type}</Badge>
              </Table.Td>
              <Table.Td>{list.kind}</Table.Td>
              <Table.Td>{list.entries}</Table.Td>
              <Table.Td>
                {when(list.created_at)} by {list.created_by}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {picked && <Entries name={picked} />}
    </Stack>
  );
}

/** After a change: the list's entries, and the counts in the lists table. */
function useListChange(name: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (run: () => Promise<unknown>) => run(),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ['list-entries', name] }),
        queryClient.invalidateQueries({ queryKey: ['lists'] }),
      ]),
  });
}

function Entries({ name }: { name: string }) {
  const session = useSession();
  // The API enforces it; the page says why before the analyst tries.
  const refusal = hasScope(session, 'lists:write')
    ? null
    : `Your role (${session.staff.role}) may read lists but not edit them: that needs the lists:write scope.`;
  const remove = useListChange(name);
  const entries = useInfiniteQuery({
    queryKey: ['list-entries', name],
    queryFn: ({ pageParam }) => api.listEntries(name, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const rows = entries.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <div>
      <Heading>Entries of {name}</Heading>
      {refusal && (
        <Alert color="gray" mb="sm" data-testid="lists-refused">
          {refusal}
        </Alert>
      )}
      <AddEntry name={name} disabled={refusal !== null} />
      {entries.error && <ErrorNote error={entries.error} />}
      {remove.error && <ErrorNote error={remove.error} />}
      <Table striped data-testid="list-entries">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Value</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Added</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((entry) => (
            <Table.Tr key={entry.value}>
              <Table.Td style={{ wordBreak: 'break-all' }}>{entry.value}</Table.Td>
              <Table.Td>{entry.source}</Table.Td>
              <Table.Td>{entry.reason ?? ''}</Table.Td>
              <Table.Td>
                {when(entry.added_at)} by {entry.added_by}
              </Table.Td>
              <Table.Td>{entry.expires_at ? when(entry.expires_at) : 'never'}</Table.Td>
              <Table.Td>
                <Button
                  size="compact-xs"
                  variant="subtle"
                  color="red"
                  aria-label={`Remove ${entry.value}`}
                  disabled={refusal !== null || remove.isPending}
                  onClick={() => remove.mutate(() => api.removeListEntry(name, entry.value))}
                >
                  Remove
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {entries.isSuccess && rows.length === 0 && <Text c="dimmed">No entries.</Text>}
      {entries.hasNextPage && (
        <Button mt="sm" variant="light" onClick={() => entries.fetchNextPage()}>
          Load more
        </Button>
      )}
    </div>
  );
}

/** One entry: the value (normalised by Warden as events are), why, and until when. */
function AddEntry({ name, disabled }: { name: string; disabled: boolean }) {
  const add = useListChange(name);
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  // datetime-local: the analyst's own time zone, sent as an instant.
  const [expires, setExpires] = useState('');
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        add.mutate(
          () =>
            api.addListEntry(name, {
              value: value.trim(),
              reason: reason.trim(),
              expires_at: expires ? new Date(expires).toISOString() : undefined,
            }),
          {
            onSuccess: () => {
              setValue('');
              setReason('');
              setExpires('');
            },
          },
        );
      }}
    >
      <Group align="end" mb="sm">
        <TextInput
          label="Value"
          required
          w={280}
          value={value}
          disabled={disabled}
          onChange={(event) => setValue(event.currentTarget.value)}
        />
        <TextInput
          label="Reason"
          style={{ flex: 1 }}
          maxLength={500}
          value={reason}
          disabled={disabled}
          onChange={(event) => setReason(event.currentTarget.value)}
        />
        <TextInput
          label="Expires (optional)"
          type="datetime-local"
          value={expires}
          disabled={disabled}
          onChange={(event) => setExpires(event.currentTarget.value)}
        />
        <Button type="submit" disabled={disabled || !value.trim()} loading={add.isPending}>
          Add entry
        </Button>
      </Group>
      {add.error && <ErrorNote error={add.error} />}
    </form>
  );
}
