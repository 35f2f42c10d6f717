import { Badge, Button, Code, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, hasScope, type WebhookDelivery } from '../api.js';
import { ErrorNote, Heading, when } from '../components.js';
import { useSession } from '../session.js';

const STATUS_COLORS = { pending: 'yellow', delivered: 'green', failed: 'red' } as const;

/** Webhook endpoints and each one's delivery log, with redelivery. */
export function WebhooksPage() {
  const session = useSession();
  const allowed = hasScope(session, 'admin');
  const endpoints = useQuery({ queryKey: ['webhooks'], queryFn: api.webhooks, enabled: allowed });
  const [picked, setPicked] = useState<string | null>(null);
  return (
    <Stack>
      <Title order={3}>Webhooks</Title>
      {!allowed && <Text>Webhooks are for admins.</Text>}
      {endpoints.error && <ErrorNote error={endpoints.error} />}
      <Table highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Endpoint</Table.Th>
            <Table.Th>Kinds</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>State</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {endpoints.data?.data.map((endpoint) => (
            <Table.Tr
              key={endpoint.id}
              onClick={() => setPicked(endpoint.id)}
              bg={picked === endpoint.id ? 'indigo.0' : undefined}
              style={{ cursor: 'pointer' }}
            >
              <Table.Td>
                <Text fw={500}>{endpoint.url}</Text>
                <Text size="xs" c="dimmed">
                  {endpoint.id} {endpoint.description ?? ''}
                </Text>
              </Table.Td>
              <Table.Td>{endpoint.kinds.join(', ')}</Table.Td>
              <Table.Td>
                {when(endpoint.created_at)} by {endpoint.created_by}
              </Table.Td>
              <Table.Td>
                {endpoint.disabled_at ? `disabled ${when(endpoint.disabled_at)}` : 'active'}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {picked && <Deliveries endpointId={picked} />}
    </Stack>
  );
}

function Deliveries({ endpointId }: { endpointId: string }) {
  const queryClient = useQueryClient();
  const deliveries = useInfiniteQuery({
    queryKey: ['deliveries', endpointId],
    queryFn: ({ pageParam }) => api.deliveries(endpointId, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  });
  const retry = useMutation({
    mutationFn: api.retryDelivery,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['deliveries', endpointId] }),
  });
  const rows = deliveries.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <div>
      <Heading>Deliveries, newest first</Heading>
      {deliveries.error && <ErrorNote error={deliveries.error} />}
      {retry.error && <ErrorNote error={retry.error} />}
      <Table striped data-testid="deliveries">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Kind</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Attempts</Table.Th>
            <Table.Th>Last answer</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Delivered</Table.Th>
            <Table.Th>Body</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((delivery) => (
            <DeliveryRow
              key={delivery.id}
              delivery={delivery}
              retrying={retry.isPending && retry.variables === delivery.id}
              onRetry={() => retry.mutate(delivery.id)}
            />
          ))}
        </Table.Tbody>
      </Table>
      {deliveries.isSuccess && rows.length === 0 && <Text c="dimmed">Nothing sent yet.</Text>}
      {deliveries.hasNextPage && (
        <Button mt="sm" variant="light" onClick={() => deliveries.fetchNextPage()}>
          Load more
        </Button>
      )}
    </div>
  );
}

function DeliveryRow(props: { delivery: WebhookDelivery; retrying: boolean; onRetry: () => void }) {
  const { delivery } = props;
  return (
    <Table.Tr>
      <Table.Td>{delivery.kind}</Table.Td>
      <Table.Td>
        <Badge color={STATUS_COLORS[delivery.status]}>{delivery.status}</Badge>
      </Table.Td>
      <Table.Td>{delivery.attempts}</Table.Td>
      <Table.Td>{delivery.last_error ?? delivery.last_status ?? '—'}</Table.Td>
      <Table.Td>{when(delivery.created_at)}</Table.Td>
      <Table.Td>{when(delivery.delivered_at)}</Table.Td>
      <Table.Td>
        <Code style={{ wordBreak: 'break-all' }}>{JSON.stringify(delivery.payload)}</Code>
      </Table.Td>
      <Table.Td>
        {/* The API sends again only what has finished: delivered or failed. */}
        <Button
          size="compact-sm"
          variant="light"
          disabled={delivery.status === 'pending'}
          loading={props.retrying}
          onClick={props.onRetry}
        >
          Send again
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}
