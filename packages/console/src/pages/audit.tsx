import { Button, Code, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api, hasScope } from '../api.js';
import { ErrorNote, TableHead, when } from '../components.js';
import { useSession } from '../session.js';

const PAGE = 100;

/** The audit log, oldest first as the API pages it (by sequence number). */
export function AuditPage() {
  const session = useSession();
  const allowed = hasScope(session, 'admin');
  const log = useInfiniteQuery({
    queryKey: ['audit-log'],
    queryFn: ({ pageParam }) => api.auditLog(pageParam, PAGE),
    initialPageParam: 0,
    // A short page is the end of the log.
    getNextPageParam: (page) => (page.data.length < PAGE ? undefined : page.data.at(-1)?.seq),
    enabled: allowed,
  });
  const rows = log.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <Stack>
      <Title order={3}>Audit log</Title>
      {!allowed && <Text>The audit log is for admins.</Text>}
      {log.error && <ErrorNote error={log.error} />}
      <Table striped>
        <TableHead columns={['#', 'At', 'Actor', 'Action', 'Target', 'Details']} />
        <Table.Tbody>
          {rows.map((record) => (
            <Table.Tr key={record.seq}>
              <Table.Td>{record.seq}</Table.Td>
              <Table.Td>{when(record.at)}</Table.Td>
              <Table.Td>{record.actor}</Table.Td>
              <Table.Td>{record.action}</Table.Td>
              <Table.Td>{record.target ?? ''}</Table.Td>
              <Table.Td>
                <Code style={{ wordBreak: 'break-all' }}>{JSON.stringify(record.details)}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {log.hasNextPage && (
        <Button variant="light" loading={log.isFetchingNextPage} onClick={() => log.fetchNextPage()}>
          Load more
        </Button>
      )}
    </Stack>
  );
}
