import { Badge, Button, Group, Menu, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useState } from 'react';
import { api, hasScope, type Role, STAFF_ROLES, type Staff, type StaffChange } from '../api.js';
import { ActiveOrEnded, ErrorNote, MadeBy, TableHead, when } from '../components.js';
import { AdminOnly, Confirm, CreateForm, OneTimeSecret, refusedFieldOf } from '../dialogs.js';
import { useSession } from '../session.js';

const ROLE_OPTIONS = STAFF_ROLES.map((role) => ({ value: role, label: role.replace('_', ' ') }));
const ROLE_COLORS: Record<Role, string> = {
  viewer: 'gray',
  analyst: 'blue',
  risk_manager: 'violet',
  admin: 'red',
};

type Action = 'role' | 'disable' | 'reset_password' | 'reset_totp';

/** A password to show once: a new account's first, or one an admin reset. */
interface Shown {
  title: string;
  secret: string;
  note: ReactNode;
}

/**
 * Staff accounts, for admins: who has which role, their second factor and state; making one (its
 * generated password shown once), and changing one: role, disabled, a new password, the second
 * factor enrolled again. Any change ends that account's sessions.
 */
export function StaffPage() {
  const session = useSession();
  const allowed = hasScope(session, 'admin');
  const staff = useQuery({ queryKey: ['staff'], queryFn: api.staff, enabled: allowed });
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<Shown | null>(null);
  const [acting, setActing] = useState<{ member: Staff; action: Action } | null>(null);
  const queryClient = useQueryClient();
  // Enabling an account again asks nothing: it takes nothing away.
  const enable = useMutation({
    mutationFn: (id: string) => api.updateStaff(id, { disabled: false }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['staff'] }),
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Staff</Title>
        <Button variant="light" disabled={!allowed || creating} onClick={() => setCreating(true)}>
          New staff member
        </Button>
      </Group>
      {!allowed && <AdminOnly what="Staff accounts" role={session.staff.role} />}
      {creating && (
        <CreateStaff
          onCancel={() => setCreating(false)}
          onCreated={(password, member) => {
            setCreating(false);
            setShown({
              title: `The password of ${member.name}`,
              secret: password,
              note: (
                <Text size="sm">
                  {member.name} ({member.email}) signs in with it and adds Warden to an authenticator app on
                  the way. Hand it over by a safe channel.
                </Text>
              ),
            });
          }}
        />
      )}
      {staff.error && <ErrorNote error={staff.error} />}
      {enable.error && <ErrorNote error={enable.error} />}
      {allowed && (
        <Table highlightOnHover data-testid="staff">
          <TableHead columns={['Name', 'Email', 'Role', 'Authenticator', 'Locked', 'State', 'Created', '']} />
          <Table.Tbody>
            {staff.data?.data.map((member) => (
              <Table.Tr key={member.id}>
                <Table.Td>
                  <Text fw={500}>
                    {member.name}
                    {member.id === session.staff.id && (
                      <Text span c="dimmed" size="sm">
                        {' '}
                        (you)
                      </Text>
                    )}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {member.id}
                  </Text>
                </Table.Td>
                <Table.Td style={{ overflowWrap: 'anywhere' }}>{member.email}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={ROLE_COLORS[member.role]}>
                    {member.role.replace('_', ' ')}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {member.totp_enrolled ? (
                    <Badge variant="light" color="green">
                      enrolled
                    </Badge>
                  ) : (
                    <Text size="sm" c="dimmed" title="Enrolled at the next sign-in">
                      not yet
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  {locked(member) ? (
                    <Badge color="orange">until {when(member.locked_until)}</Badge>
                  ) : (
                    <Text size="sm" c="dimmed">
                      no
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <ActiveOrEnded endedAt={member.disabled_at} ended="disabled" />
                </Table.Td>
                <Table.Td>
                  <MadeBy at={member.created_at} by={member.created_by} />
                </Table.Td>
                <Table.Td>
                  <Menu position="bottom-end" withinPortal>
                    <Menu.Target>
                      <Button size="compact-sm" variant="light" aria-label={`Change ${member.email}`}>
                        Change…
                      </Button>
                    </Menu.Target>
                    <Menu.Dropdown>
                      <Menu.Item onClick={() => setActing({ member, action: 'role' })}>
                        Change the role
                      </Menu.Item>
                      <Menu.Item onClick={() => setActing({ member, action: 'reset_password' })}>
                        Issue a new password
                      </Menu.Item>
                      <Menu.Item onClick={() => setActing({ member, action: 'reset_totp' })}>
                        Reset the second factor
                      </Menu.Item>
                      {member.disabled_at ? (
                        <Menu.Item onClick={() => enable.mutate(member.id)}>Enable the account</Menu.Item>
                      ) : (
                        <Menu.Item color="red" onClick={() => setActing({ member, action: 'disable' })}>
                          Disable the account
                        </Menu.Item>
                      )}
                    </Menu.Dropdown>
                  </Menu>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {acting && (
        <ChangeStaff
          key={`${acting.member.id}-${acting.action}`}
          member={acting.member}
          action={acting.action}
          self={acting.member.id === session.staff.id}
          onClose={() => setActing(null)}
          onPassword={(password) =>
            setShown({
              title: `A new password for ${acting.member.name}`,
              secret: password,
              note: (
                <Text size="sm">
                  The old one no longer works, and a lockout is lifted. Hand it to {acting.member.name} by a
                  safe channel.
                </Text>
              ),
            })
          }
        />
      )}
      <OneTimeSecret title={shown?.title ?? ''} secret={shown?.secret ?? null} onClose={() => setShown(null)}>
        {shown?.note}
      </OneTimeSecret>
    </Stack>
  );
}

const locked = (member: Staff) => member.locked_until !== null && new Date(member.locked_until) > new Date();

function CreateStaff({
  onCancel,
  onCreated,
}: {
  onCancel: () => void;
  onCreated: (password: string, member: Staff) => void;
}) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('analyst');
  const create = useMutation({
    mutationFn: () => api.createStaff({ email: email.trim(), name: name.trim(), role }),
    onSuccess: async ({ password, staff }) => {
      await queryClient.invalidateQueries({ queryKey: ['staff'] });
      onCreated(password, staff);
    },
  });
  const refusedField = refusedFieldOf(create.error);
  return (
    <CreateForm
      title="New staff member"
      submit="Create the account"
      ready={email.trim() !== '' && name.trim() !== ''}
      mutation={create}
      onCancel={onCancel}
    >
      <Group align="start">
        <TextInput
          label="Email"
          type="email"
          required
          w={320}
          maxLength={320}
          value={email}
          error={refusedField === '/email'}
          onChange={(event) => setEmail(event.currentTarget.value)}
        />
        <TextInput
          label="Name"
          required
          w={280}
          maxLength={200}
          value={name}
          error={refusedField === '/name'}
          onChange={(event) => setName(event.currentTarget.value)}
        />
        <Select
          label="Role"
          w={180}
          data={ROLE_OPTIONS}
          value={role}
          allowDeselect={false}
          onChange={(picked) => picked && setRole(picked as Role)}
        />
      </Group>
      <Text size="sm" c="dimmed" mt="xs">
        Warden makes the password, and shows it once.
      </Text>
    </CreateForm>
  );
}

/** One change, asked first: each ends the account's sessions, and some lock its owner out. */
function ChangeStaff({
  member,
  action,
  self,
  onClose,
  onPassword,
}: {
  member: Staff;
  action: Action;
  self: boolean;
  onClose: () => void;
  onPassword: (password: string) => void;
}) {
  const queryClient = useQueryClient();
  const [role, setRole] = useState<Role>(member.role);
  const change = useMutation({
    mutationFn: (patch: StaffChange) => api.updateStaff(member.id, patch),
    onSuccess: async (answer) => {
      onClose();
      if (answer.password) onPassword(answer.password);
      // A change to one's own account ends one's own session too: back to the sign-in page.
      if (self) await queryClient.invalidateQueries({ queryKey: ['session'] });
      else await queryClient.invalidateQueries({ queryKey: ['staff'] });
    },
  });
  const sessions = self ? (
    <Text size="sm" fw={500}>
      This is your own account: your session ends too, and you sign in again.
    </Text>
  ) : (
    <Text size="sm">Their sessions end: they sign in again.</Text>
  );
  const common = {
    opened: true,
    pending: change.isPending,
    error: change.error,
    onCancel: onClose,
  };
  switch (action) {
    case 'role':
      return (
        <Confirm
          {...common}
          title={`Change the role of ${member.name}`}
          confirm="Change the role"
          color="blue"
          ready={role !== member.role}
          onConfirm={() => change.mutate({ role })}
        >
          <Select
            label="New role"
            data={ROLE_OPTIONS}
            value={role}
            allowDeselect={false}
            comboboxProps={{ withinPortal: false }}
            onChange={(picked) => picked && setRole(picked as Role)}
          />
          <Text size="sm">
            Now {member.role.replace('_', ' ')}. The new role's rights apply from their next request.
          </Text>
          {sessions}
          {self && role !== 'admin' && (
            <Text size="sm" c="red">
              Without admin you can no longer manage staff, API keys or webhooks.
            </Text>
          )}
        </Confirm>
      );
    case 'disable':
      return (
        <Confirm
          {...common}
          title={`Disable ${member.name}?`}
          confirm="Disable the account"
          // Warden itself does not refuse it; the page does, so nobody locks themself out by a slip.
          refusal={
            self ? 'You cannot disable the account you are signed in with: ask another admin to.' : null
          }
          onConfirm={() => change.mutate({ disabled: true })}
        >
          <Text size="sm">
            {member.email} can no longer sign in, until an admin enables the account again.
          </Text>
          {!self && sessions}
        </Confirm>
      );
    case 'reset_password':
      return (
        <Confirm
          {...common}
          title={`Issue a new password for ${member.name}?`}
          confirm="Issue a new password"
          onConfirm={() => change.mutate({ reset_password: true })}
        >
          <Text size="sm">
            Warden makes a new password and shows it once; the old one stops working. It also lifts a lockout.
          </Text>
          {sessions}
        </Confirm>
      );
    case 'reset_totp':
      return (
        <Confirm
          {...common}
          title={`Reset the second factor of ${member.name}?`}
          confirm="Reset the second factor"
          onConfirm={() => change.mutate({ reset_totp: true })}
        >
          <Text size="sm">
            For a lost or stolen device: at the next sign-in they add Warden to an authenticator app again,
            and their passkeys are removed.
          </Text>
          {sessions}
        </Confirm>
      );
  }
}
