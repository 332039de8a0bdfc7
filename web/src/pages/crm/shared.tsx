import { Alert, Anchor, Button, Group, List, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCopy } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type SubmitEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { type ApiError, unwrap } from '../../api/client';
import { useApi } from '../../api/context';
import {
  type Collection,
  type Company,
  crmKeys,
  MATCHED_ON,
  possibleDuplicates,
  useCompany,
  useCrmList,
} from '../../api/crm';
import { type CustomValue, isEmptyValue, useCustomFields } from '../../api/customFields';
import { CustomFieldInput } from './CustomFields';

/** A searchable company select over `GET /api/v1/companies?name[contains]=`. */
export function CompanyPicker({
  label = 'Company',
  value,
  onChange,
  error,
  required,
}: {
  label?: string;
  value: string | null;
  onChange: (id: string | null) => void;
  error?: string | undefined;
  required?: boolean;
}) {
  const [search, setSearch] = useState('');
  const [term] = useDebouncedValue(search, 250);
  const list = useCrmList('companies', { sort: 'name', filters: { 'name[contains]': term } });
  const selected = useCompany(value ?? undefined);
  const options = new Map<string, string>();
  if (value && selected.data) options.set(value, selected.data.name);
  for (const c of list.data?.pages.flatMap((p) => p.data) ?? []) options.set(c.id, c.name);
  return (
    <Select
      label={label}
      placeholder="Type to search companies"
      searchable
      clearable
      required={required}
      value={value}
      onChange={onChange}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: opts }) => opts}
      data={[...options].map(([id, name]) => ({ value: id, label: name }))}
      nothingFoundMessage={list.isFetching ? 'Searching…' : 'No company matches'}
      error={error}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** A field of a create dialog. */
export interface FieldSpec {
  name: string;
  label: string;
  required?: boolean;
  kind?: 'text' | 'email' | 'select' | 'company';
  /** For `select`. */
  options?: { value: string; label: string }[];
  placeholder?: string;
  initial?: string;
}

/**
 * The create dialog of a CRM collection: POSTs the filled-in fields (empty ones left out),
 * shows the server's field errors next to their fields, and opens the new record's page.
 */
export function CreateRecordModal({
  opened,
  onClose,
  collection,
  title,
  fields,
  recordPath,
}: {
  opened: boolean;
  onClose: () => void;
  collection: Collection;
  title: string;
  fields: FieldSpec[];
  recordPath: (id: string) => string;
}) {
  const api = useApi();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const initial = () => Object.fromEntries(fields.map((f) => [f.name, f.initial ?? '']));
  const [values, setValues] = useState<Record<string, string>>(initial);
  // required custom fields are asked for here too; the others are set on the record page
  const customFields = useCustomFields(collection, opened);
  const requiredCustom = (customFields.data ?? []).filter((f) => f.required);
  const [custom, setCustom] = useState<Record<string, CustomValue>>({});
  const create = useMutation<{ id: string }, ApiError, Record<string, unknown>>({
    mutationFn: async (body) => {
      const path = `/api/v1/${collection}` as const;
      // The body is checked by the server; the dialog's fields follow each collection's schema.
      const result = await unwrap(api.POST(path, { body: body as never }));
      return (result as { data: { id: string } }).data;
    },
    onSuccess: async (record) => {
      await queryClient.invalidateQueries({ queryKey: crmKeys.lists(collection) });
      await queryClient.invalidateQueries({ queryKey: ['crm', 'board'] });
      notifications.show({ color: 'teal', message: `${title.replace(/^New /, '')} created.` });
      setValues(initial());
      setCustom({});
      onClose();
      void navigate(recordPath(record.id));
    },
  });
  const error = create.error;
  const fieldError = (name: string) => error?.fieldError(name);
  const duplicates = possibleDuplicates(error);
  const otherError =
    error &&
    !duplicates &&
    !fields.some((f) => error.fieldError(f.name)) &&
    !requiredCustom.some((f) => error.fieldError(`custom_fields.${f.key}`));
  const close = () => {
    create.reset();
    onClose();
  };
  const set = (name: string, value: string | null) => {
    // an edit makes the duplicate warning stale: the next Create asks the server again
    if (duplicates) create.reset();
    setValues((v) => ({ ...v, [name]: value ?? '' }));
  };

  const onSubmit = (e: SubmitEvent<HTMLFormElement>) => {
    e.preventDefault();
    // Empty optional fields are left out; empty required ones are sent, so the server names
    // them in its field errors.
    const required = new Set(fields.filter((f) => f.required).map((f) => f.name));
    const body = Object.fromEntries(
      Object.entries(values)
        .map(([k, v]) => [k, v.trim()] as const)
        .filter(([k, v]) => v !== '' || required.has(k)),
    );
    const customValues = Object.fromEntries(Object.entries(custom).filter(([, v]) => !isEmptyValue(v)));
    create.mutate(Object.keys(customValues).length ? { ...body, custom_fields: customValues } : body);
  };

  return (
    <Modal opened={opened} onClose={close} title={title} centered>
      <form onSubmit={onSubmit} aria-label={title} noValidate>
        <Stack gap="sm">
          {fields.map((f) => {
            const common = {
              label: f.label,
              required: f.required ?? false,
              error: fieldError(f.name),
            };
            if (f.kind === 'company') {
              return (
                <CompanyPicker
                  key={f.name}
                  {...common}
                  value={values[f.name] ? (values[f.name] ?? null) : null}
                  onChange={(id) => {
                    set(f.name, id);
                  }}
                />
              );
            }
            if (f.kind === 'select') {
              return (
                <Select
                  key={f.name}
                  {...common}
                  data={f.options ?? []}
                  value={values[f.name] ? (values[f.name] ?? null) : null}
                  onChange={(v) => {
                    set(f.name, v);
                  }}
                  comboboxProps={{ withinPortal: true }}
                />
              );
            }
            return (
              <TextInput
                key={f.name}
                {...common}
                type={f.kind === 'email' ? 'email' : 'text'}
                placeholder={f.placeholder}
                value={values[f.name] ?? ''}
                onChange={(e) => {
                  set(f.name, e.currentTarget.value);
                }}
              />
            );
          })}
          {requiredCustom.map((f) => (
            <CustomFieldInput
              key={f.id}
              field={f}
              value={custom[f.key] ?? null}
              onChange={(v) => {
                if (duplicates) create.reset();
                setCustom((c) => ({ ...c, [f.key]: v }));
              }}
              error={error?.fieldError(`custom_fields.${f.key}`)}
            />
          ))}
          {duplicates ? (
            <Alert
              color="orange"
              variant="light"
              icon={<IconCopy size={18} />}
              title="This may already exist"
              data-testid="possible-duplicates"
            >
              <Stack gap={6}>
                <Text size="sm">Check these before creating another record:</Text>
                <List size="sm" spacing={4}>
                  {duplicates.map((d) => (
                    <List.Item key={d.id}>
                      <Anchor component={Link} to={recordPath(d.id)} onClick={close} size="sm">
                        {d.name}
                      </Anchor>{' '}
                      <Text span size="xs" c="dimmed">
                        ({MATCHED_ON[d.matched_on] ?? d.matched_on})
                      </Text>
                    </List.Item>
                  ))}
                </List>
                <Group>
                  <Button
                    size="xs"
                    color="orange"
                    variant="light"
                    loading={create.isPending}
                    onClick={() => {
                      if (create.variables) create.mutate({ ...create.variables, allow_duplicate: true });
                    }}
                  >
                    Create anyway
                  </Button>
                </Group>
              </Stack>
            </Alert>
          ) : null}
          {otherError ? (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} role="alert">
              {error.detail ?? error.title}
            </Alert>
          ) : null}
          <Group justify="flex-end" mt="sm">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={Boolean(duplicates)}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** "Company name" from its id, for cards and tables (cached per company). */
export function CompanyName({ id }: { id: string | null | undefined }) {
  const company = useCompany(id ?? undefined);
  if (!id) return <>–</>;
  return <>{company.data?.name ?? '…'}</>;
}

export type { Company };
