import {
  Alert,
  Badge,
  Button,
  FileInput,
  Group,
  Modal,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, hasScope, LIST_KINDS, type List, type ListInput } from '../api.js';
import { ErrorNote, isoFromLocal, LoadMore, TableHead, useCursorPages, when } from '../components.js';
import { CreateForm, refusedFieldOf } from '../dialogs.js';
import { useSession } from '../session.js';

/**
 * Allow and block lists: creating and deleting them, and the entries of the one picked, added and
 * removed by hand, imported from CSV and exported to it.
 */
export function ListsPage() {
  const session = useSession();
  // The API enforces it; the page says why before the analyst tries.
  const refusal = hasScope(session, 'lists:write')
    ? null
    : `Your role (${session.staff.role}) may read lists but not edit them: that needs the lists:write scope.`;
  const lists = useQuery({ queryKey: ['lists'], queryFn: api.lists });
  const [picked, setPicked] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const list = lists.data?.data.find((one) => one.name === picked);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Lists</Title>
        <Button variant="light" disabled={refusal !== null || creating} onClick={() => setCreating(true)}>
          New list
        </Button>
      </Group>
      {refusal && (
        <Alert color="gray" data-testid="lists-refused">
          {refusal}
        </Alert>
      )}
      {creating && (
        <CreateList
          onCancel={() => setCreating(false)}
          onCreated={(name) => {
            setCreating(false);
            setPicked(name);
          }}
        />
      )}
      {lists.error && <ErrorNote error={lists.error} />}
      <Table highlightOnHover data-testid="lists">
        <TableHead columns={['Name', 'Type', 'Kind', 'Entries', 'Created']} />
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
      {list && <Entries key={list.name} list={list} refusal={refusal} onDeleted={() => setPicked(null)} />}
    </Stack>
  );
}

/** A new list: its name is how rules use it (`lists.NAME`), its kind how Warden normalises values. */
function CreateList({ onCancel, onCreated }: { onCancel: () => void; onCreated: (name: string) => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [type, setType] = useState<ListInput['type']>('block');
  const [kind, setKind] = useState<ListInput['kind']>('email');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => api.createList({ name: name.trim(), type, kind, description: description.trim() }),
    onSuccess: async (list) => {
      await queryClient.invalidateQueries({ queryKey: ['lists'] });
      onCreated(list.name);
    },
  });
  const refusedField = refusedFieldOf(create.error);
  return (
    <CreateForm
      title="New list"
      submit="Create the list"
      ready={name.trim() !== ''}
      mutation={create}
      onCancel={onCancel}
    >
      <Group align="start">
        <TextInput
          label="Name"
          description="Lower-case letters, digits and _; rules use it as lists.NAME"
          required
          w={300}
          maxLength={63}
          value={name}
          error={refusedField === '/name'}
          onChange={(event) => setName(event.currentTarget.value)}
        />
        <Select
          label="Type"
          description="What a rule on it does"
          w={130}
          data={[
            { value: 'block', label: 'block' },
            { value: 'allow', label: 'allow' },
          ]}
          value={type}
          allowDeselect={false}
          onChange={(picked) => picked && setType(picked as ListInput['type'])}
        />
        <Select
          label="Kind"
          description="The values it holds"
          w={190}
          data={[...LIST_KINDS]}
          value={kind}
          allowDeselect={false}
          onChange={(picked) => picked && setKind(picked as ListInput['kind'])}
        />
        <TextInput
          label="Description"
          description="Optional"
          style={{ flex: 1 }}
          miw={200}
          maxLength={1000}
          value={description}
          onChange={(event) => setDescription(event.currentTarget.value)}
        />
      </Group>
    </CreateForm>
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

/** A file for the browser to save, from memory. */
function save(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken the file by then; revoking at once can cancel it in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function Entries({
  list,
  refusal,
  onDeleted,
}: {
  list: List;
  refusal: string | null;
  onDeleted: () => void;
}) {
  const { name } = list;
  const remove = useListChange(name);
  const exported = useMutation({
    mutationFn: () => api.exportList(name),
    onSuccess: (csv) => save(csv, `${name}.csv`),
  });
  const [deleting, setDeleting] = useState(false);
  const { query: entries, rows } = useCursorPages(['list-entries', name], (cursor) =>
    api.listEntries(name, cursor),
  );
  return (
    <div>
      <Group justify="space-between" mb="sm">
        <Text fw={600} size="lg">
          Entries of {name}
        </Text>
        <Group gap="xs">
          <Button variant="light" loading={exported.isPending} onClick={() => exported.mutate()}>
            Export CSV
          </Button>
          <Button variant="light" color="red" disabled={refusal !== null} onClick={() => setDeleting(true)}>
            Delete the list
          </Button>
        </Group>
      </Group>
      {exported.error && <ErrorNote error={exported.error} title="The export failed" />}
      <AddEntry name={name} disabled={refusal !== null} />
      <ImportCsv name={name} disabled={refusal !== null} />
      {entries.error && <ErrorNote error={entries.error} />}
      {remove.error && <ErrorNote error={remove.error} />}
      <Table striped data-testid="list-entries">
        <TableHead columns={['Value', 'Source', 'Reason', 'Added', 'Expires', '']} />
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
      <LoadMore query={entries} />
      <Modal
        opened={deleting}
        onClose={() => setDeleting(false)}
        title={<Text fw={600}>Delete the list {name}?</Text>}
      >
        <DeleteList
          list={list}
          onCancel={() => setDeleting(false)}
          onDeleted={() => {
            setDeleting(false);
            onDeleted();
          }}
        />
      </Modal>
    </div>
  );
}

function DeleteList({
  list,
  onCancel,
  onDeleted,
}: {
  list: List;
  onCancel: () => void;
  onDeleted: () => void;
}) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => api.deleteList(list.name),
    onSuccess: async () => {
      // The list leaves the table (and its entries the page) before their cache goes.
      await queryClient.invalidateQueries({ queryKey: ['lists'] });
      queryClient.removeQueries({ queryKey: ['list-entries', list.name] });
      onDeleted();
    },
  });
  return (
    <Stack gap="sm">
      <Text size="sm">
        The list and its {list.entries} {list.entries === 1 ? 'entry' : 'entries'} are deleted for good.
        Warden refuses while a rule of the draft or of the live version uses lists.{list.name}.
      </Text>
      {remove.error && <ErrorNote error={remove.error} />}
      <Group justify="end">
        <Button variant="default" onClick={onCancel}>
          Cancel
        </Button>
        <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
          Delete {list.name}
        </Button>
      </Group>
    </Stack>
  );
}

/**
 * Entries from a CSV file: a header line naming the columns (value, and optionally reason and
 * expires_at), then an entry a line. All or nothing: Warden refuses the whole file for one bad
 * line, and names it.
 */
function ImportCsv({ name, disabled }: { name: string; disabled: boolean }) {
  const [file, setFile] = useState<File | null>(null);
  const [added, setAdded] = useState<{ file: string; count: number } | null>(null);
  const change = useListChange(name);
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (!file) return;
        setAdded(null);
        change.mutate(() => api.importList(name, file), {
          onSuccess: (answer) => {
            setAdded({ file: file.name, count: (answer as { added: number }).added });
            setFile(null);
          },
        });
      }}
    >
      <Group align="end" mb="sm">
        <FileInput
          label="Import from a CSV file"
          description="A header line (value, optionally reason and expires_at), then an entry a line"
          placeholder="Pick a .csv file"
          accept=".csv,text/csv"
          w={440}
          clearable
          value={file}
          disabled={disabled}
          onChange={(picked) => {
            setFile(picked);
            setAdded(null);
            change.reset();
          }}
        />
        <Button type="submit" variant="light" disabled={disabled || !file} loading={change.isPending}>
          Import
        </Button>
        {added && (
          <Text size="sm" c="green.8" data-testid="import-result">
            {added.count} {added.count === 1 ? 'entry' : 'entries'} added from {added.file}.
          </Text>
        )}
      </Group>
      {change.error && (
        <ErrorNote error={change.error} title="Nothing was imported: Warden refused the file" />
      )}
    </form>
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
              expires_at: isoFromLocal(expires),
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
