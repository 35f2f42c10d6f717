import { Badge, Button, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api.js';
import { ErrorNote, Heading, when } from '../components.js';

/** Allow and block lists, and the entries of the one picked (read-only). */
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

function Entries({ name }: { name: string }) {
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
      {entries.error && <ErrorNote error={entries.error} />}
      <Table striped data-testid="list-entries">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Value</Table.Th>
            <Table.Th>Source</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Added</Table.Th>
            <Table.Th>Expires</Table.Th>
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
