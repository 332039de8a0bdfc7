import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  Modal,
  SegmentedControl,
  Select,
  Skeleton,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconArchive, IconPencil, IconPlus } from '@tabler/icons-react';
import { type SubmitEvent, useState } from 'react';
import type { ApiError } from '../../api/client';
import type { Collection } from '../../api/crm';
import {
  CUSTOM_FIELD_KINDS,
  type CustomField,
  type CustomFieldKind,
  KIND_LABELS,
  keyFromLabel,
  managePermission,
  OBJECT_LABELS,
  useArchiveCustomField,
  useCreateCustomField,
  useCustomFields,
  useUpdateCustomField,
} from '../../api/customFields';
import { useCan } from '../../auth/me';
import { ErrorAlert } from '../../components/ErrorAlert';

const OBJECTS: Collection[] = ['contacts', 'companies', 'leads', 'deals'];

const hasOptions = (kind: CustomFieldKind) => kind === 'select' || kind === 'multi_select';

/** A form's leftover problem: one not shown next to a field. */
function FormProblem({ error, fields }: { error: ApiError | null; fields: string[] }) {
  if (!error || fields.some((f) => error.fieldError(f))) return null;
  const message =
    error.status === 412
      ? 'Someone else changed this field meanwhile: close the dialog and try again.'
      : error.status === 403
        ? 'You may not change custom fields.'
        : (error.detail ?? error.title);
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
      {message}
    </Alert>
  );
}

function NewFieldModal({
  object,
  opened,
  onClose,
}: {
  object: Collection;
  opened: boolean;
  onClose: () => void;
}) {
  const create = useCreateCustomField();
  const [label, setLabel] = useState('');
  const [key, setKey] = useState('');
  const [keyEdited, setKeyEdited] = useState(false);
  const [kind, setKind] = useState<CustomFieldKind>('text');
  const [options, setOptions] = useState<string[]>([]);
  const [linkObject, setLinkObject] = useState<Collection | null>(null);
  const [required, setRequired] = useState(false);
  const close = () => {
    create.reset();
    setLabel('');
    setKey('');
    setKeyEdited(false);
    setKind('text');
    setOptions([]);
    setLinkObject(null);
    setRequired(false);
    onClose();
  };
  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    create.mutate(
      {
        object,
        key: key.trim(),
        label: label.trim(),
        kind,
        required,
        ...(hasOptions(kind) ? { options } : {}),
        ...(kind === 'link' && linkObject ? { link_object: linkObject } : {}),
      },
      {
        onSuccess: (field) => {
          notifications.show({
            color: 'teal',
            message: `Field “${field.label}” added to ${OBJECT_LABELS[object]}.`,
          });
          close();
        },
      },
    );
  };
  const err = (name: string) => create.error?.fieldError(name);
  return (
    <Modal opened={opened} onClose={close} title={`New field on ${OBJECT_LABELS[object]}`} centered>
      <form onSubmit={onSubmit} aria-label="New custom field" noValidate>
        <Stack gap="sm">
          <TextInput
            label="Label"
            required
            value={label}
            onChange={(e) => {
              const v = e.currentTarget.value;
              setLabel(v);
              if (!keyEdited) setKey(keyFromLabel(v));
            }}
            error={err('label')}
            data-autofocus
          />
          <TextInput
            label="Key"
            description="Used in the API, imports and filters (cf.<key>); cannot change later"
            required
            value={key}
            onChange={(e) => {
              setKey(e.currentTarget.value);
              setKeyEdited(true);
            }}
            error={err('key')}
            ff="monospace"
          />
          <Select
            label="Kind"
            required
            data={CUSTOM_FIELD_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))}
            value={kind}
            onChange={(v) => {
              if (v) setKind(v);
            }}
            allowDeselect={false}
            error={err('kind')}
            comboboxProps={{ withinPortal: true }}
          />
          {hasOptions(kind) ? (
            <TagsInput
              label="Options"
              description="Type an option and press Enter"
              required
              value={options}
              onChange={setOptions}
              error={err('options')}
            />
          ) : null}
          {kind === 'link' ? (
            <Select
              label="Links to"
              required
              data={OBJECTS.map((o) => ({ value: o, label: OBJECT_LABELS[o] }))}
              value={linkObject}
              onChange={(v) => {
                setLinkObject(v);
              }}
              error={err('link_object')}
              comboboxProps={{ withinPortal: true }}
            />
          ) : null}
          <Checkbox
            label="Required (every new or changed record must have it)"
            checked={required}
            onChange={(e) => {
              setRequired(e.currentTarget.checked);
            }}
          />
          <FormProblem
            error={create.error}
            fields={['label', 'key', 'kind', 'options', 'link_object', 'object']}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Add field
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function EditFieldModal({ field, onClose }: { field: CustomField; onClose: () => void }) {
  const update = useUpdateCustomField();
  const [label, setLabel] = useState(field.label);
  const [options, setOptions] = useState(field.options);
  const [required, setRequired] = useState(field.required);
  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    update.mutate(
      {
        id: field.id,
        change: {
          label: label.trim(),
          required,
          ...(hasOptions(field.kind) ? { options } : {}),
          version: field.version,
        },
      },
      {
        onSuccess: () => {
          notifications.show({ color: 'teal', message: 'Field saved.' });
          onClose();
        },
      },
    );
  };
  const err = (name: string) => update.error?.fieldError(name);
  return (
    <Modal opened onClose={onClose} title={`Edit “${field.label}”`} centered>
      <form onSubmit={onSubmit} aria-label="Edit custom field" noValidate>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">
            Key <Code>{field.key}</Code> · {KIND_LABELS[field.kind]}
          </Text>
          <TextInput
            label="Label"
            required
            value={label}
            onChange={(e) => {
              setLabel(e.currentTarget.value);
            }}
            error={err('label')}
          />
          {hasOptions(field.kind) ? (
            <TagsInput
              label="Options"
              description="Removing an option does not change records that have it"
              value={options}
              onChange={setOptions}
              error={err('options')}
            />
          ) : null}
          <Checkbox
            label="Required"
            checked={required}
            onChange={(e) => {
              setRequired(e.currentTarget.checked);
            }}
          />
          <FormProblem error={update.error} fields={['label', 'options', 'required']} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={update.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function ArchiveFieldModal({ field, onClose }: { field: CustomField; onClose: () => void }) {
  const archive = useArchiveCustomField();
  return (
    <Modal opened onClose={onClose} title={`Archive “${field.label}”?`} centered>
      <Stack gap="sm">
        <Text size="sm">
          It disappears from record pages, lists and imports. Records keep their values, so nothing is lost.
        </Text>
        <FormProblem error={archive.error} fields={[]} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            color="red"
            loading={archive.isPending}
            onClick={() => {
              archive.mutate(field.id, {
                onSuccess: () => {
                  notifications.show({ color: 'teal', message: `“${field.label}” archived.` });
                  onClose();
                },
              });
            }}
          >
            Archive
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function FieldDetails({ field }: { field: CustomField }) {
  if (field.kind === 'link' && field.link_object) {
    return <Text size="sm">→ {OBJECT_LABELS[field.link_object]}</Text>;
  }
  if (field.options.length === 0) return <Text size="sm">–</Text>;
  return (
    <Group gap={4}>
      {field.options.map((o) => (
        <Badge key={o} variant="light" radius="sm" size="sm">
          {o}
        </Badge>
      ))}
    </Group>
  );
}

/** Settings → Custom fields: the extra fields of contacts, companies, leads and deals. */
export function CustomFieldsPage() {
  const [object, setObject] = useState<Collection>('contacts');
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<CustomField | null>(null);
  const [archiving, setArchiving] = useState<CustomField | null>(null);
  const fields = useCustomFields(object);
  const can = useCan();
  const canManage = can(managePermission(object));
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <SegmentedControl
          aria-label="Object"
          value={object}
          onChange={(v) => {
            setObject(v);
          }}
          data={OBJECTS.map((o) => ({ value: o, label: OBJECT_LABELS[o] }))}
        />
        {canManage ? (
          <Button
            leftSection={<IconPlus size={16} />}
            onClick={() => {
              setCreating(true);
            }}
          >
            New field
          </Button>
        ) : null}
      </Group>
      {fields.isError ? <ErrorAlert error={fields.error} what="custom fields" /> : null}
      <Card padding={0} withBorder>
        <Table.ScrollContainer minWidth={640}>
          <Table verticalSpacing="sm" aria-label={`Custom fields of ${OBJECT_LABELS[object]}`}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Label</Table.Th>
                <Table.Th>Key</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Options</Table.Th>
                <Table.Th>Required</Table.Th>
                <Table.Th w={90}>
                  <VisuallyHidden>Actions</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {fields.isPending ? (
                <Table.Tr>
                  <Table.Td colSpan={6}>
                    <Skeleton h={14} />
                  </Table.Td>
                </Table.Tr>
              ) : (
                fields.data?.map((f) => (
                  <Table.Tr key={f.id}>
                    <Table.Td fw={500}>{f.label}</Table.Td>
                    <Table.Td>
                      <Code>{f.key}</Code>
                    </Table.Td>
                    <Table.Td>{KIND_LABELS[f.kind]}</Table.Td>
                    <Table.Td>
                      <FieldDetails field={f} />
                    </Table.Td>
                    <Table.Td>{f.required ? 'Yes' : 'No'}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap" display={canManage ? undefined : 'none'}>
                        <ActionIcon
                          variant="subtle"
                          color="gray"
                          aria-label={`Edit ${f.label}`}
                          onClick={() => {
                            setEditing(f);
                          }}
                        >
                          <IconPencil size={16} />
                        </ActionIcon>
                        <ActionIcon
                          variant="subtle"
                          color="red"
                          aria-label={`Archive ${f.label}`}
                          onClick={() => {
                            setArchiving(f);
                          }}
                        >
                          <IconArchive size={16} />
                        </ActionIcon>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))
              )}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {fields.isSuccess && fields.data.length === 0 ? (
          <Text c="dimmed" ta="center" py="xl">
            No custom fields on {OBJECT_LABELS[object].toLowerCase()} yet.
          </Text>
        ) : null}
      </Card>
      <NewFieldModal
        object={object}
        opened={creating}
        onClose={() => {
          setCreating(false);
        }}
      />
      {editing ? (
        <EditFieldModal
          key={editing.id}
          field={editing}
          onClose={() => {
            setEditing(null);
          }}
        />
      ) : null}
      {archiving ? (
        <ArchiveFieldModal
          field={archiving}
          onClose={() => {
            setArchiving(null);
          }}
        />
      ) : null}
    </Stack>
  );
}
