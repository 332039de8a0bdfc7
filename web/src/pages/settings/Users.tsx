import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  MultiSelect,
  PasswordInput,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlus, IconUserOff } from '@tabler/icons-react';
import { type InfiniteData, useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { identityKeys, type PageMeta, type User, useOrg, useRoles, useUsers } from '../../api/identity';
import { useCan, useMe } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { formatDate } from '../../lib/format';

type UsersData = InfiniteData<{ data: User[]; meta: PageMeta }>;

/** Role names to offer: the organisation's roles when we may read them, else the built-in ones. */
const BUILTIN_ROLE_NAMES = ['Admin', 'Manager', 'Sales Rep', 'Support Agent', 'Engineer', 'Viewer'];

function useRoleNames(): string[] {
  const can = useCan();
  const roles = useRoles(can('roles:read'));
  return roles.data?.map((r) => r.name) ?? BUILTIN_ROLE_NAMES;
}

/** Puts a changed user into the cached list in place. */
function replaceUser(data: UsersData | undefined, user: User): UsersData | undefined {
  if (!data) return data;
  return {
    ...data,
    pages: data.pages.map((p) => ({ ...p, data: p.data.map((u) => (u.id === user.id ? user : u)) })),
  };
}

function isUser(value: unknown): value is User {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<User>).id === 'string' &&
    typeof (value as Partial<User>).version === 'number'
  );
}

function NewUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const can = useCan();
  const roleNames = useRoleNames();
  const org = useOrg(opened && can('org:read'));
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<string | null>('Viewer');
  const [siteIds, setSiteIds] = useState<string[]>([]);
  const [divisionIds, setDivisionIds] = useState<string[]>([]);
  const create = useMutation<User, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/users', {
            body: {
              email: email.trim(),
              name: name.trim(),
              password,
              role: role ?? '',
              site_ids: siteIds,
              division_ids: divisionIds,
            },
          }),
        )
      ).data,
    onSuccess: (user) => {
      void queryClient.invalidateQueries({ queryKey: identityKeys.users });
      notifications.show({ color: 'teal', title: 'User created', message: `${user.name} can sign in now.` });
      reset();
      onClose();
    },
  });
  const reset = () => {
    setEmail('');
    setName('');
    setPassword('');
    setRole('Viewer');
    setSiteIds([]);
    setDivisionIds([]);
    create.reset();
  };
  const error = create.error;
  const fieldError = (field: string) => error?.fieldError(field);
  const otherError =
    error &&
    !['email', 'name', 'password', 'role', 'site_ids', 'division_ids'].some((f) => error.fieldError(f));
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const sites = org.data?.sites ?? [];
  const divisions = org.data?.divisions ?? [];

  return (
    <Modal
      opened={opened}
      onClose={() => {
        reset();
        onClose();
      }}
      title="New user"
      centered
    >
      <form onSubmit={submit} noValidate aria-label="New user">
        <Stack gap="sm">
          {otherError ? (
            <Alert color="red" variant="light" title={error.title} icon={<IconAlertTriangle size={18} />}>
              {error.detail}
            </Alert>
          ) : null}
          <TextInput
            label="Email"
            type="email"
            required
            data-autofocus
            value={email}
            error={fieldError('email')}
            onChange={(e) => {
              setEmail(e.currentTarget.value);
            }}
          />
          <TextInput
            label="Name"
            required
            value={name}
            error={fieldError('name')}
            onChange={(e) => {
              setName(e.currentTarget.value);
            }}
          />
          <PasswordInput
            label="Initial password"
            description="At least 12 characters, not a common password. Share it safely."
            required
            autoComplete="new-password"
            value={password}
            error={fieldError('password')}
            onChange={(e) => {
              setPassword(e.currentTarget.value);
            }}
          />
          <Select
            label="Role"
            required
            data={roleNames}
            value={role}
            onChange={setRole}
            error={fieldError('role')}
            allowDeselect={false}
            comboboxProps={{ withinPortal: true }}
          />
          {sites.length > 0 ? (
            <MultiSelect
              label="Limit to sites"
              description="Empty: every site"
              data={sites.map((s) => ({ value: s.id, label: s.name }))}
              value={siteIds}
              onChange={setSiteIds}
              error={fieldError('site_ids')}
              clearable
            />
          ) : null}
          {divisions.length > 0 ? (
            <MultiSelect
              label="Limit to divisions"
              description="Empty: every division"
              data={divisions.map((d) => ({ value: d.id, label: d.name }))}
              value={divisionIds}
              onChange={setDivisionIds}
              error={fieldError('division_ids')}
              clearable
            />
          ) : null}
          <Group justify="flex-end" mt="xs">
            <Button
              variant="default"
              onClick={() => {
                reset();
                onClose();
              }}
            >
              Cancel
            </Button>
            <Button
              type="submit"
              loading={create.isPending}
              disabled={!email.trim() || !name.trim() || !password || !role}
            >
              Create user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function RoleCell({
  user,
  editable,
  onConflict,
}: {
  user: User;
  editable: boolean;
  onConflict: (user: User, current: User | null) => void;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const roleNames = useRoleNames();
  const change = useMutation<User, ApiError, string>({
    mutationFn: async (role) =>
      (
        await unwrap(
          api.PATCH('/api/v1/users/{id}', {
            params: { path: { id: user.id } },
            body: { role, version: user.version },
          }),
        )
      ).data,
    onSuccess: (updated) => {
      queryClient.setQueryData<UsersData>(identityKeys.users, (d) => replaceUser(d, updated));
      notifications.show({ color: 'teal', message: `${updated.name} is now ${updated.role}.` });
    },
    onError: (e) => {
      if (e.status === 412) {
        const current = isUser(e.problem.current) ? e.problem.current : null;
        if (current) queryClient.setQueryData<UsersData>(identityKeys.users, (d) => replaceUser(d, current));
        else void queryClient.invalidateQueries({ queryKey: identityKeys.users });
        onConflict(user, current);
      } else {
        notifications.show({
          color: 'red',
          title: e.title,
          message: e.detail ?? 'The role was not changed.',
        });
      }
    },
  });
  if (!editable) {
    return (
      <Badge variant="light" radius="sm" tt="none">
        {user.role}
      </Badge>
    );
  }
  const options = roleNames.includes(user.role) ? roleNames : [user.role, ...roleNames];
  return (
    <Select
      size="xs"
      w={160}
      aria-label={`Role of ${user.name}`}
      data={options}
      value={user.role}
      allowDeselect={false}
      disabled={change.isPending}
      onChange={(role) => {
        if (role && role !== user.role) change.mutate(role);
      }}
    />
  );
}

export function UsersPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const can = useCan();
  const { data: me } = useMe();
  const users = useUsers();
  const [creating, setCreating] = useState(false);
  const [deactivating, setDeactivating] = useState<User | null>(null);
  const [conflict, setConflict] = useState<{ name: string; role: string | null } | null>(null);
  const manage = can('users:manage');
  const deactivate = useMutation<User, ApiError, User>({
    mutationFn: async (user) =>
      (await unwrap(api.POST('/api/v1/users/{id}/deactivate', { params: { path: { id: user.id } } }))).data,
    onSuccess: (updated) => {
      queryClient.setQueryData<UsersData>(identityKeys.users, (d) => replaceUser(d, updated));
      notifications.show({ color: 'teal', message: `${updated.name} can no longer sign in.` });
      setDeactivating(null);
    },
  });

  if (users.isError)
    return <ErrorAlert error={users.error} what="the users" onRetry={() => void users.refetch()} />;
  const rows = users.data?.pages.flatMap((p) => p.data) ?? [];

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          People who can sign in to {me?.org.name ?? 'your organisation'}, and their roles.
        </Text>
        {manage ? (
          <Button
            leftSection={<IconPlus size={16} />}
            onClick={() => {
              setCreating(true);
            }}
          >
            New user
          </Button>
        ) : null}
      </Group>
      {conflict ? (
        <Alert
          color="orange"
          variant="light"
          title="Changed by someone else"
          icon={<IconAlertTriangle size={18} />}
          withCloseButton
          onClose={() => {
            setConflict(null);
          }}
          data-testid="conflict"
        >
          {conflict.name} was changed since you loaded this page, so your change was not saved.
          {conflict.role ? ` Their role is now ${conflict.role}.` : ''} Check it and try again.
        </Alert>
      ) : null}
      <Card p={0}>
        <Table.ScrollContainer minWidth={720}>
          <Table verticalSpacing="sm" horizontalSpacing="md" highlightOnHover aria-label="Users">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Two-step</Table.Th>
                <Table.Th>Created</Table.Th>
                {manage ? <Table.Th w={60} /> : null}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.isPending
                ? [0, 1, 2].map((i) => (
                    <Table.Tr key={i}>
                      <Table.Td colSpan={manage ? 6 : 5}>
                        <Skeleton h={28} />
                      </Table.Td>
                    </Table.Tr>
                  ))
                : rows.map((u) => {
                    const self = u.id === me?.user?.id;
                    return (
                      <Table.Tr key={u.id} data-testid="user-row">
                        <Table.Td>
                          <Text size="sm" fw={500}>
                            {u.name}
                            {self ? (
                              <Text span c="dimmed" size="xs">
                                {' '}
                                (you)
                              </Text>
                            ) : null}
                          </Text>
                          <Text size="xs" c="dimmed">
                            {u.email}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <RoleCell
                            user={u}
                            editable={manage && u.active && !self}
                            onConflict={(mine, current) => {
                              setConflict({ name: current?.name ?? mine.name, role: current?.role ?? null });
                            }}
                          />
                        </Table.Td>
                        <Table.Td>
                          <Badge variant="dot" color={u.active ? 'teal' : 'gray'} radius="sm">
                            {u.active ? 'Active' : 'Deactivated'}
                          </Badge>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm" c={u.totp_enabled ? undefined : 'dimmed'}>
                            {u.totp_enabled ? 'On' : 'Off'}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDate(u.created_at)}</Text>
                        </Table.Td>
                        {manage ? (
                          <Table.Td>
                            {u.active && !self ? (
                              <Tooltip label="Deactivate">
                                <Button
                                  variant="subtle"
                                  color="red"
                                  size="compact-sm"
                                  aria-label={`Deactivate ${u.name}`}
                                  onClick={() => {
                                    setDeactivating(u);
                                  }}
                                >
                                  <IconUserOff size={16} />
                                </Button>
                              </Tooltip>
                            ) : null}
                          </Table.Td>
                        ) : null}
                      </Table.Tr>
                    );
                  })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Card>
      {users.hasNextPage ? (
        <Group justify="center">
          <Button
            variant="default"
            loading={users.isFetchingNextPage}
            onClick={() => void users.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      ) : null}

      {manage ? (
        <NewUserModal
          opened={creating}
          onClose={() => {
            setCreating(false);
          }}
        />
      ) : null}
      <Modal
        opened={deactivating !== null}
        onClose={() => {
          setDeactivating(null);
          deactivate.reset();
        }}
        title="Deactivate user?"
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            <b>{deactivating?.name}</b> will be signed out at once and can no longer sign in to this
            organisation. Their records and audit history stay.
          </Text>
          {deactivate.error ? (
            <Alert color="red" variant="light" title={deactivate.error.title}>
              {deactivate.error.detail}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={() => {
                setDeactivating(null);
              }}
            >
              Cancel
            </Button>
            <Button
              color="red"
              loading={deactivate.isPending}
              onClick={() => {
                if (deactivating) deactivate.mutate(deactivating);
              }}
            >
              Deactivate
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
