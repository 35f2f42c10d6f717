import {
  Badge,
  Button,
  Checkbox,
  Code,
  Group,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { API_KEY_SCOPES, type ApiKey, api, hasScope, type Scope } from '../api.js';
import { ActiveOrEnded, ErrorNote, MadeBy, TableHead, when } from '../components.js';
import { AdminOnly, Confirm, CreateForm, OneTimeSecret, refusedFieldOf } from '../dialogs.js';
import { useSession } from '../session.js';

/**
 * API keys, for admins: each one's scopes and use, making one (its secret shown once) and revoking
 * one. Warden keeps only a hash of each secret.
 */
export function ApiKeysPage() {
  const session = useSession();
  const allowed = hasScope(session, 'admin');
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: api.apiKeys, enabled: allowed });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ secret: string; key: ApiKey } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>API keys</Title>
        <Button variant="light" disabled={!allowed || creating} onClick={() => setCreating(true)}>
          New API key
        </Button>
      </Group>
      {!allowed && <AdminOnly what="API keys" role={session.staff.role} />}
      {creating && (
        <CreateKey
          onCancel={() => setCreating(false)}
          onCreated={(answer) => {
            setCreating(false);
            setCreated(answer);
          }}
        />
      )}
      {keys.error && <ErrorNote error={keys.error} />}
      {allowed && (
        <Table highlightOnHover data-testid="api-keys">
          <TableHead columns={['Name', 'Scopes', 'Created', 'Last used', 'State', '']} />
          <Table.Tbody>
            {keys.data?.data.map((key) => (
              <Table.Tr key={key.id}>
                <Table.Td>
                  <Text fw={500}>{key.name}</Text>
                  <Text size="xs" c="dimmed">
                    {key.id} · <Code fz="xs">{key.prefix}…</Code>
                  </Text>
                </Table.Td>
                <Table.Td maw={520}>
                  <Group gap={4}>
                    {key.scopes.map((scope) => (
                      <Badge key={scope} variant="light" color={scope === 'admin' ? 'red' : 'gray'} tt="none">
                        {scope}
                      </Badge>
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <MadeBy at={key.created_at} by={key.created_by} />
                </Table.Td>
                <Table.Td>
                  {key.last_used_at ? when(key.last_used_at) : <Text c="dimmed">never</Text>}
                </Table.Td>
                <Table.Td>
                  <ActiveOrEnded endedAt={key.revoked_at} ended="revoked" />
                </Table.Td>
                <Table.Td>
                  {!key.revoked_at && (
                    <Button
                      size="compact-sm"
                      variant="subtle"
                      color="red"
                      aria-label={`Revoke ${key.name}`}
                      onClick={() => setRevoking(key)}
                    >
                      Revoke
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {keys.isSuccess && keys.data.data.length === 0 && <Text c="dimmed">No API keys.</Text>}
      {revoking && <RevokeKey key={revoking.id} apiKey={revoking} onClose={() => setRevoking(null)} />}
      <OneTimeSecret
        title={`The secret of ${created?.key.name ?? ''}`}
        secret={created?.secret ?? null}
        onClose={() => setCreated(null)}
      >
        <Text size="sm">
          Send it as <Code>Authorization: Bearer …</Code>. Warden keeps only its hash; lost, it cannot be
          recovered: make a new key and revoke this one.
        </Text>
      </OneTimeSecret>
    </Stack>
  );
}

function CreateKey({
  onCancel,
  onCreated,
}: {
  onCancel: () => void;
  onCreated: (answer: { secret: string; key: ApiKey }) => void;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>([]);
  const create = useMutation({
    mutationFn: () => api.createApiKey({ name: name.trim(), scopes }),
    onSuccess: async (answer) => {
      await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
      onCreated(answer);
    },
  });
  const refusedField = refusedFieldOf(create.error);
  return (
    <CreateForm
      title="New API key"
      submit="Create the key"
      ready={name.trim() !== '' && scopes.length > 0}
      mutation={create}
      onCancel={onCancel}
    >
      <TextInput
        label="Name"
        description="What uses it: “checkout service”, “chargeback import”"
        required
        w={400}
        maxLength={100}
        value={name}
        error={refusedField === '/name'}
        onChange={(event) => setName(event.currentTarget.value)}
      />
      <Checkbox.Group
        label="Scopes"
        description="Only what it needs: a write scope includes its read scope; admin is everything, staff and keys included; device:collect alone makes a publishable key, for web pages"
        value={scopes}
        onChange={(picked) => setScopes(picked as Scope[])}
      >
        <SimpleGrid cols={6} spacing="xs" mt="xs">
          {API_KEY_SCOPES.map((scope) => (
            <Checkbox key={scope} value={scope} label={scope} />
          ))}
        </SimpleGrid>
      </Checkbox.Group>
    </CreateForm>
  );
}

function RevokeKey({ apiKey, onClose }: { apiKey: ApiKey; onClose: () => void }) {
  const queryClient = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api.revokeApiKey(apiKey.id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
      onClose();
    },
  });
  return (
    <Confirm
      opened
      title={`Revoke ${apiKey.name}?`}
      confirm="Revoke the key"
      pending={revoke.isPending}
      error={revoke.error}
      onConfirm={() => revoke.mutate()}
      onCancel={onClose}
    >
      <Text size="sm">
        Requests with its secret (<Code>{apiKey.prefix}…</Code>) are refused from now on. A revoked key cannot
        be restored: whatever uses it needs a new one.
      </Text>
    </Confirm>
  );
}
