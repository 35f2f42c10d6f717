import { AppShell, Badge, Button, Group, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Outlet } from '@tanstack/react-router';
import { api, hasScope } from './api.js';
import { ErrorNote, RouterNavLink } from './components.js';
import { useSession } from './session.js';

export function Layout() {
  const session = useSession();
  const queryClient = useQueryClient();
  const signOut = useMutation({
    mutationFn: api.signOut,
    onSuccess: () => {
      // Nothing the next person to sign in on this browser should see.
      queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== 'session' });
      queryClient.setQueryData(['session'], null);
    },
  });
  const admin = hasScope(session, 'admin');
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 190, breakpoint: 'sm' }} padding="md">
      <AppShell.Header>
        <Group justify="space-between" h="100%" px="md">
          <Title order={4}>Warden console</Title>
          <Group gap="sm">
            <Text data-testid="signed-in-as">{session.staff.name}</Text>
            <Badge variant="light">{session.staff.role.replace('_', ' ')}</Badge>
            <Button variant="subtle" size="compact-sm" onClick={() => signOut.mutate()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <RouterNavLink to="/" label="Queue" activeOptions={{ exact: true }} activeProps={{ active: true }} />
        <RouterNavLink to="/dashboard" label="Dashboard" activeProps={{ active: true }} />
        <RouterNavLink to="/decisions" label="Decisions" activeProps={{ active: true }} />
        <RouterNavLink to="/users" label="Users" activeProps={{ active: true }} />
        <RouterNavLink to="/lists" label="Lists" activeProps={{ active: true }} />
        <RouterNavLink to="/rules" label="Rules" activeProps={{ active: true }} />
        {admin && <RouterNavLink to="/audit" label="Audit log" activeProps={{ active: true }} />}
        {admin && <RouterNavLink to="/webhooks" label="Webhooks" activeProps={{ active: true }} />}
        {admin && <RouterNavLink to="/staff" label="Staff" activeProps={{ active: true }} />}
        {admin && <RouterNavLink to="/api-keys" label="API keys" activeProps={{ active: true }} />}
        <RouterNavLink to="/account" label="Account" activeProps={{ active: true }} />
      </AppShell.Navbar>
      <AppShell.Main>
        {signOut.error && <ErrorNote error={signOut.error} />}
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
