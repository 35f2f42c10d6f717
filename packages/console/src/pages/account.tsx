import { Alert, Badge, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api } from '../api.js';
import { ErrorNote, Heading, KeyValues, TableHead, when } from '../components.js';
import { useSession } from '../session.js';

/** The signed-in person's own account: who they are, and the passkeys they sign in with. */
export function AccountPage() {
  const session = useSession();
  return (
    <Stack maw={900}>
      <Title order={3}>Account</Title>
      <Paper withBorder p="md">
        <Heading>You</Heading>
        <KeyValues
          values={{ name: session.staff.name, email: session.staff.email, role: session.staff.role }}
        />
      </Paper>
      <Passkeys />
    </Stack>
  );
}

function Passkeys() {
  const queryClient = useQueryClient();
  const passkeys = useQuery({ queryKey: ['passkeys'], queryFn: api.passkeys });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['passkeys'] });
  const remove = useMutation({ mutationFn: api.removePasskey, onSuccess: refresh });
  const here = window.location.hostname;
  const rows = passkeys.data?.data ?? [];
  return (
    <Paper withBorder p="md">
      <Heading>Passkeys</Heading>
      <Text size="sm" mb="sm">
        A passkey (your phone, your computer's fingerprint reader or PIN, a security key) can stand in for the
        code from your authenticator app when you sign in: after your password, choose <em>Use a passkey</em>.
        The app stays enrolled, for the times the passkey is not at hand. A passkey works on the site it was
        added on only.
      </Text>
      {passkeys.error && <ErrorNote error={passkeys.error} />}
      {remove.error && <ErrorNote error={remove.error} />}
      {rows.length === 0 && passkeys.isSuccess && (
        <Text c="dimmed" mb="sm">
          No passkeys yet.
        </Text>
      )}
      {rows.length > 0 && (
        <Table data-testid="passkeys" mb="md">
          <TableHead columns={['Name', 'Site', 'Added', 'Last used', '']} />
          <Table.Tbody>
            {rows.map((passkey) => (
              <Table.Tr key={passkey.id}>
                <Table.Td>
                  <Text fw={500}>{passkey.name}</Text>
                </Table.Td>
                <Table.Td>
                  {passkey.rp_id}{' '}
                  {passkey.rp_id !== here && (
                    <Badge color="gray" variant="light">
                      not this site
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>{when(passkey.created_at)}</Table.Td>
                <Table.Td>{passkey.last_used_at ? when(passkey.last_used_at) : 'never'}</Table.Td>
                <Table.Td>
                  <Button
                    size="compact-xs"
                    color="red"
                    variant="light"
                    aria-label={`Remove passkey ${passkey.name}`}
                    loading={remove.isPending && remove.variables === passkey.id}
                    onClick={() => remove.mutate(passkey.id)}
                  >
                    Remove
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <AddPasskey onAdded={refresh} />
    </Paper>
  );
}

/** Names the passkey, asks Warden for options, lets the browser make it, and sends it back. */
function AddPasskey({ onAdded }: { onAdded: () => Promise<unknown> }) {
  const [name, setName] = useState('');
  const supported = typeof window.PublicKeyCredential === 'function';
  const add = useMutation({
    mutationFn: async () => {
      const optionsJSON = await api.passkeyRegistrationOptions();
      // Only people adding a passkey need the WebAuthn helpers: loaded on demand.
      const { startRegistration } = await import('@simplewebauthn/browser');
      return api.addPasskey(name.trim(), await startRegistration({ optionsJSON }));
    },
    onSuccess: async () => {
      setName('');
      await onAdded();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate();
  };
  if (!supported)
    return (
      <Alert color="gray" title="Not in this browser">
        This browser cannot make passkeys (WebAuthn).
      </Alert>
    );
  return (
    <form onSubmit={submit}>
      <Group align="flex-end">
        <TextInput
          label="Name of the new passkey"
          description="So you can tell it apart later: “work laptop”, “YubiKey”"
          required
          maxLength={64}
          w={320}
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
        />
        <Button type="submit" loading={add.isPending} disabled={!name.trim()}>
          Add a passkey
        </Button>
      </Group>
      {add.error && <ErrorNote error={add.error} title="No passkey added" />}
      {add.isSuccess && (
        <Text c="green" size="sm" mt="xs" role="status">
          Added “{add.data.name}”.
        </Text>
      )}
    </form>
  );
}
