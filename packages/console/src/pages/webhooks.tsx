import { Badge, Button, Checkbox, Code, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import {
  api,
  hasScope,
  WEBHOOK_KINDS,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookKind,
} from '../api.js';
import { ActiveOrEnded, ErrorNote, Heading, MadeBy, TableHead, when } from '../components.js';
import { AdminOnly, Confirm, CreateForm, OneTimeSecret, refusedFieldOf } from '../dialogs.js';
import { useSession } from '../session.js';

const STATUS_COLORS = { pending: 'yellow', delivered: 'green', failed: 'red' } as const;

/**
 * Webhook endpoints: adding one (its signing secret shown once), disabling one, and each one's
 * delivery log, with redelivery.
 */
export function WebhooksPage() {
  const session = useSession();
  const allowed = hasScope(session, 'admin');
  const endpoints = useQuery({ queryKey: ['webhooks'], queryFn: api.webhooks, enabled: allowed });
  const [picked, setPicked] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ secret: string; endpoint: WebhookEndpoint } | null>(null);
  const [disabling, setDisabling] = useState<WebhookEndpoint | null>(null);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Webhooks</Title>
        <Button variant="light" disabled={!allowed || creating} onClick={() => setCreating(true)}>
          New endpoint
        </Button>
      </Group>
      {!allowed && <AdminOnly what="Webhooks" role={session.staff.role} />}
      {creating && (
        <CreateEndpoint
          onCancel={() => setCreating(false)}
          onCreated={(answer) => {
            setCreating(false);
            setCreated(answer);
            setPicked(answer.endpoint.id);
          }}
        />
      )}
      {endpoints.error && <ErrorNote error={endpoints.error} />}
      <Table highlightOnHover data-testid="endpoints">
        <TableHead columns={['Endpoint', 'Kinds', 'Created', 'State', '']} />
        <Table.Tbody>
          {endpoints.data?.data.map((endpoint) => (
            <Table.Tr
              key={endpoint.id}
              onClick={() => setPicked(endpoint.id)}
              bg={picked === endpoint.id ? 'indigo.0' : undefined}
              style={{ cursor: 'pointer' }}
            >
              <Table.Td style={{ wordBreak: 'break-all' }}>
                <Text fw={500}>{endpoint.url}</Text>
                <Text size="xs" c="dimmed">
                  {endpoint.id} {endpoint.description ?? ''}
                </Text>
              </Table.Td>
              <Table.Td>{endpoint.kinds.join(', ')}</Table.Td>
              <Table.Td>
                <MadeBy at={endpoint.created_at} by={endpoint.created_by} />
              </Table.Td>
              <Table.Td>
                <ActiveOrEnded endedAt={endpoint.disabled_at} ended="disabled" />
              </Table.Td>
              <Table.Td>
                {!endpoint.disabled_at && (
                  <Button
                    size="compact-sm"
                    variant="subtle"
                    color="red"
                    aria-label={`Disable ${endpoint.url}`}
                    onClick={(event) => {
                      // Not a pick of the row: its deliveries stay as they are.
                      event.stopPropagation();
                      setDisabling(endpoint);
                    }}
                  >
                    Disable
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {endpoints.isSuccess && endpoints.data.data.length === 0 && <Text c="dimmed">No endpoints.</Text>}
      {picked && (
        <Deliveries
          endpointId={picked}
          disabled={Boolean(endpoints.data?.data.find((endpoint) => endpoint.id === picked)?.disabled_at)}
        />
      )}
      {disabling && (
        <DisableEndpoint key={disabling.id} endpoint={disabling} onClose={() => setDisabling(null)} />
      )}
      <OneTimeSecret
        title={`The signing secret of ${created?.endpoint.url ?? ''}`}
        secret={created?.secret ?? null}
        onClose={() => setCreated(null)}
      >
        <Text size="sm">
          Warden signs each delivery with it (the <Code>Warden-Signature</Code> header): give it to the
          receiving service, so it can tell Warden's requests from anyone else's.
        </Text>
      </OneTimeSecret>
    </Stack>
  );
}

function CreateEndpoint({
  onCancel,
  onCreated,
}: {
  onCancel: () => void;
  onCreated: (answer: { secret: string; endpoint: WebhookEndpoint }) => void;
}) {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [kinds, setKinds] = useState<WebhookKind[]>([]);
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => api.createWebhook({ url: url.trim(), kinds, description: description.trim() }),
    onSuccess: async (answer) => {
      await queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      onCreated(answer);
    },
  });
  const refusedField = refusedFieldOf(create.error);
  return (
    <CreateForm
      title="New endpoint"
      submit="Add the endpoint"
      ready={url.trim() !== '' && kinds.length > 0}
      mutation={create}
      onCancel={onCancel}
    >
      <Group align="start">
        <TextInput
          label="URL"
          description="https (plain http only to localhost)"
          placeholder="https://platform.example.com/warden-hooks"
          required
          w={520}
          maxLength={2000}
          value={url}
          error={refusedField === '/url'}
          onChange={(event) => setUrl(event.currentTarget.value)}
        />
        <TextInput
          label="Description"
          description="Optional"
          style={{ flex: 1 }}
          miw={200}
          maxLength={200}
          value={description}
          onChange={(event) => setDescription(event.currentTarget.value)}
        />
      </Group>
      <Checkbox.Group
        label="Kinds"
        description="What it is sent (docs/webhooks.md)"
        value={kinds}
        onChange={(picked) => setKinds(picked as WebhookKind[])}
      >
        <Group mt="xs">
          {WEBHOOK_KINDS.map((kind) => (
            <Checkbox key={kind} value={kind} label={kind} />
          ))}
        </Group>
      </Checkbox.Group>
    </CreateForm>
  );
}

function DisableEndpoint({ endpoint, onClose }: { endpoint: WebhookEndpoint; onClose: () => void }) {
  const queryClient = useQueryClient();
  const disable = useMutation({
    mutationFn: () => api.disableWebhook(endpoint.id),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['webhooks'] }),
        queryClient.invalidateQueries({ queryKey: ['deliveries', endpoint.id] }),
      ]);
      onClose();
    },
  });
  return (
    <Confirm
      opened
      title="Disable this endpoint?"
      confirm="Disable the endpoint"
      pending={disable.isPending}
      error={disable.error}
      onConfirm={() => disable.mutate()}
      onCancel={onClose}
    >
      <Text size="sm" style={{ wordBreak: 'break-all' }}>
        Nothing more is sent to {endpoint.url}, and the deliveries still waiting fail. It cannot be enabled
        again: add a new endpoint instead (with a new secret).
      </Text>
    </Confirm>
  );
}

function Deliveries({ endpointId, disabled }: { endpointId: string; disabled: boolean }) {
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
        <TableHead
          columns={['Kind', 'Status', 'Attempts', 'Last answer', 'Created', 'Delivered', 'Body', '']}
        />
        <Table.Tbody>
          {rows.map((delivery) => (
            <DeliveryRow
              key={delivery.id}
              delivery={delivery}
              retrying={retry.isPending && retry.variables === delivery.id}
              endpointDisabled={disabled}
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

function DeliveryRow(props: {
  delivery: WebhookDelivery;
  retrying: boolean;
  endpointDisabled: boolean;
  onRetry: () => void;
}) {
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
        {/* The API sends again only what has finished: delivered or failed; a disabled endpoint's fails. */}
        <Button
          size="compact-sm"
          variant="light"
          disabled={delivery.status === 'pending' || props.endpointDisabled}
          title={props.endpointDisabled ? 'The endpoint is disabled: nothing more is sent to it' : undefined}
          loading={props.retrying}
          onClick={props.onRetry}
        >
          Send again
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}
