import { Alert, Button, Card, Code, Group, Modal, Stack, Text } from '@mantine/core';
import { useClipboard } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { ApiError } from './api.js';
import { ErrorNote, Heading } from './components.js';

/**
 * A password or secret Warden shows in one answer only: in a modal that says so, with a copy
 * button, until the admin closes it. Nothing keeps it after that.
 */
export function OneTimeSecret({
  title,
  secret,
  children,
  onClose,
}: {
  title: string;
  secret: string | null;
  /** What it is for, and what to do with it. */
  children?: ReactNode;
  onClose: () => void;
}) {
  const clipboard = useClipboard({ timeout: 2000 });
  return (
    <Modal
      opened={secret !== null}
      onClose={onClose}
      size="lg"
      closeOnClickOutside={false}
      title={<Text fw={600}>{title}</Text>}
    >
      <Stack gap="sm">
        {children}
        <Code block data-testid="one-time-secret" fz="md" style={{ wordBreak: 'break-all' }}>
          {secret}
        </Code>
        <Text size="sm" fw={600}>
          It will not be shown again: copy it now.
        </Text>
        {clipboard.error && (
          <Text size="sm" c="red">
            The browser did not let the page copy it: select it and copy it by hand.
          </Text>
        )}
        <Group justify="end">
          <Button
            variant="light"
            color={clipboard.copied ? 'teal' : undefined}
            onClick={() => secret && clipboard.copy(secret)}
          >
            {clipboard.copied ? 'Copied' : 'Copy'}
          </Button>
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Asks before a change that cannot be taken back or locks someone out, and shows Warden's refusal. */
export function Confirm({
  opened,
  title,
  children,
  confirm,
  color = 'red',
  pending,
  error,
  refusal = null,
  ready = true,
  onConfirm,
  onCancel,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  /** The button's label: what happens. */
  confirm: string;
  color?: string;
  pending: boolean;
  error: unknown;
  /** Why the console will not do it: shown, with the button disabled. */
  refusal?: string | null;
  /** False until the form in the dialog says what to do. */
  ready?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Modal opened={opened} onClose={onCancel} title={<Text fw={600}>{title}</Text>}>
      <Stack gap="sm">
        {children}
        {refusal && (
          <Alert color="gray" data-testid="confirm-refused">
            {refusal}
          </Alert>
        )}
        {error ? <ErrorNote error={error} /> : null}
        <Group justify="end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button color={color} loading={pending} disabled={refusal !== null || !ready} onClick={onConfirm}>
            {confirm}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** What a page for admins says to anyone else (the API refuses them regardless). */
export function AdminOnly({ what, role }: { what: string; role: string }) {
  return (
    <Text data-testid="admin-refused">
      {what} are for admins: your role ({role.replace('_', ' ')}) does not have the admin scope.
    </Text>
  );
}

/**
 * A card that makes something new: its fields, then the button that sends them and one that
 * cancels, then Warden's refusal as it came.
 */
export function CreateForm({
  title,
  submit,
  ready,
  mutation,
  onCancel,
  children,
}: {
  title: string;
  /** The button's label: what happens. */
  submit: string;
  /** Whether the fields are filled in enough to send. */
  ready: boolean;
  mutation: { mutate: () => void; isPending: boolean; error: unknown };
  onCancel: () => void;
  children: ReactNode;
}) {
  return (
    <Card withBorder>
      <Heading>{title}</Heading>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          mutation.mutate();
        }}
      >
        <Stack gap="sm">
          {children}
          <Group>
            <Button type="submit" disabled={!ready} loading={mutation.isPending}>
              {submit}
            </Button>
            <Button variant="default" onClick={onCancel}>
              Cancel
            </Button>
          </Group>
        </Stack>
      </form>
      {mutation.error ? <ErrorNote error={mutation.error} /> : null}
    </Card>
  );
}

/** The field Warden's refusal points at (`/name`), to mark it. */
export const refusedFieldOf = (error: unknown) => (error instanceof ApiError ? error.field : null);
