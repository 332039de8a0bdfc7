import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Modal,
  Skeleton,
  Stack,
  Text,
  Textarea,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconPlus, IconTrash } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import { identityKeys, type Role, useRoles } from '../../api/identity';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';
import { PermissionList, PermissionPicker } from './Permissions';

function NewRoleModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [permissions, setPermissions] = useState<string[]>([]);
  const create = useMutation<Role, ApiError>({
    mutationFn: async () =>
      (
        await unwrap(
          api.POST('/api/v1/roles', {
            body: { name: name.trim(), description: description.trim(), permissions },
          }),
        )
      ).data,
    onSuccess: (role) => {
      void queryClient.invalidateQueries({ queryKey: identityKeys.roles });
      notifications.show({
        color: 'teal',
        title: 'Role created',
        message: `${role.name} can be given to users now.`,
      });
      close();
    },
  });
  const close = () => {
    setName('');
    setDescription('');
    setPermissions([]);
    create.reset();
    onClose();
  };
  const error = create.error;
  const permissionsError = error?.fieldErrors.find((e) => e.field.startsWith('permissions'))?.message;
  const nameError =
    error?.fieldError('name') ??
    (error?.status === 409 ? (error.detail ?? 'This name is taken.') : undefined);
  const otherError = error && !nameError && !permissionsError && !error.fieldError('description');
  const submit = (event: SubmitEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Modal opened={opened} onClose={close} title="New role" size="xl" centered>
      <form onSubmit={submit} noValidate aria-label="New role">
        <Stack gap="sm">
          {otherError ? (
            <Alert color="red" variant="light" title={error.title} icon={<IconAlertTriangle size={18} />}>
              {error.detail}
            </Alert>
          ) : null}
          <TextInput
            label="Name"
            required
            data-autofocus
            value={name}
            error={nameError}
            onChange={(e) => {
              setName(e.currentTarget.value);
            }}
          />
          <Textarea
            label="Description"
            autosize
            minRows={2}
            value={description}
            error={error?.fieldError('description')}
            onChange={(e) => {
              setDescription(e.currentTarget.value);
            }}
          />
          <PermissionPicker value={permissions} onChange={setPermissions} error={permissionsError} />
          <Group justify="flex-end" mt="xs">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              type="submit"
              loading={create.isPending}
              disabled={!name.trim() || permissions.length === 0}
            >
              Create role
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function RolesPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const can = useCan();
  const roles = useRoles();
  const manage = can('roles:manage');
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const remove = useMutation<unknown, ApiError, Role>({
    mutationFn: (role) => unwrap(api.DELETE('/api/v1/roles/{id}', { params: { path: { id: role.id } } })),
    onSuccess: (_, role) => {
      void queryClient.invalidateQueries({ queryKey: identityKeys.roles });
      notifications.show({ color: 'teal', message: `Role ${role.name} deleted.` });
      setDeleting(null);
    },
  });

  if (roles.isError)
    return <ErrorAlert error={roles.error} what="the roles" onRetry={() => void roles.refetch()} />;
  const list = roles.data ?? [];
  const builtin = list.filter((r) => r.builtin);
  const custom = list.filter((r) => !r.builtin);

  const roleCard = (role: Role) => (
    <Card key={role.id} data-testid="role-card">
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap">
          <Group gap="xs">
            <Text fw={600}>{role.name}</Text>
            <Badge variant="light" color={role.builtin ? 'gray' : 'meridian'} radius="sm" size="sm">
              {role.builtin ? 'Built-in' : 'Custom'}
            </Badge>
          </Group>
          {manage && !role.builtin ? (
            <Tooltip label="Delete role">
              <ActionIcon
                variant="subtle"
                color="red"
                aria-label={`Delete role ${role.name}`}
                onClick={() => {
                  setDeleting(role);
                }}
              >
                <IconTrash size={16} />
              </ActionIcon>
            </Tooltip>
          ) : null}
        </Group>
        {role.description ? (
          <Text size="sm" c="dimmed">
            {role.description}
          </Text>
        ) : null}
        <PermissionList permissions={role.permissions} />
      </Stack>
    </Card>
  );

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          A role is a set of permissions. Built-in roles cannot be changed; create a custom role for anything
          else.
        </Text>
        {manage ? (
          <Button
            leftSection={<IconPlus size={16} />}
            onClick={() => {
              setCreating(true);
            }}
          >
            New role
          </Button>
        ) : null}
      </Group>
      {roles.isPending ? (
        <Stack>
          <Skeleton h={96} />
          <Skeleton h={96} />
        </Stack>
      ) : (
        <>
          <Text size="sm" fw={600} c="dimmed" tt="uppercase" lts={0.6}>
            Custom roles
          </Text>
          {custom.length > 0 ? (
            custom.map(roleCard)
          ) : (
            <Text size="sm" c="dimmed">
              No custom roles yet.
            </Text>
          )}
          <Text size="sm" fw={600} c="dimmed" tt="uppercase" lts={0.6} mt="sm">
            Built-in roles
          </Text>
          {builtin.map(roleCard)}
        </>
      )}

      {manage ? (
        <NewRoleModal
          opened={creating}
          onClose={() => {
            setCreating(false);
          }}
        />
      ) : null}
      <Modal
        opened={deleting !== null}
        onClose={() => {
          setDeleting(null);
          remove.reset();
        }}
        title="Delete role?"
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            Delete the custom role <b>{deleting?.name}</b>? A role that users still hold cannot be deleted.
          </Text>
          {remove.error ? (
            <Alert
              color="red"
              variant="light"
              title={remove.error.status === 409 ? 'Role in use' : remove.error.title}
            >
              {remove.error.detail ?? 'Give those users another role first.'}
            </Alert>
          ) : null}
          <Group justify="flex-end">
            <Button
              variant="default"
              onClick={() => {
                setDeleting(null);
                remove.reset();
              }}
            >
              Cancel
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() => {
                if (deleting) remove.mutate(deleting);
              }}
            >
              Delete
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
