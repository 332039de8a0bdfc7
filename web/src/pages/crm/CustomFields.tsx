import {
  ActionIcon,
  Anchor,
  Badge,
  Card,
  Checkbox,
  Group,
  MultiSelect,
  NumberInput,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconCheck, IconPencil, IconX } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import { Link } from 'react-router';
import type { ApiError } from '../../api/client';
import {
  type Collection,
  useRecordLabel,
  CURRENCIES,
  formatMoney,
  type RecordType,
  recordPath,
  useSearch,
} from '../../api/crm';
import {
  type CustomField,
  type CustomValue,
  customFieldsOf,
  isEmptyValue,
  isMoney,
  useCustomFields,
} from '../../api/customFields';
import { formatDate } from '../../lib/format';

const TYPE_OF: Record<Collection, RecordType> = {
  companies: 'company',
  contacts: 'contact',
  leads: 'lead',
  deals: 'deal',
};

/** A link to a record, named after it. */
export function RecordLink({ collection, id }: { collection: Collection; id: string }) {
  const label = useRecordLabel(collection, id);
  return (
    <Anchor component={Link} to={recordPath(TYPE_OF[collection], id)} size="sm">
      {label.data ?? (label.isError ? id : '…')}
    </Anchor>
  );
}

/** A searchable picker of one record of a collection, over `GET /api/v1/search`. */
export function RecordPicker({
  collection,
  label,
  value,
  onChange,
  error,
  required,
  exclude = [],
  placeholder,
}: {
  collection: Collection;
  label: string;
  value: string | null;
  onChange: (id: string | null) => void;
  error?: ReactNode;
  required?: boolean;
  exclude?: readonly string[];
  placeholder?: string;
}) {
  const [search, setSearch] = useState('');
  const [term] = useDebouncedValue(search, 250);
  const hits = useSearch(term, 30);
  const selected = useRecordLabel(collection, value);
  const type = TYPE_OF[collection];
  const options = new Map<string, string>();
  if (value) options.set(value, selected.data ?? '…');
  for (const h of hits.data ?? []) {
    if (h.record_type === type && !exclude.includes(h.id)) options.set(h.id, h.title);
  }
  return (
    <Select
      label={label}
      placeholder={placeholder ?? `Type to search ${collection}`}
      searchable
      clearable
      required={required}
      value={value}
      onChange={onChange}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options: opts }) => opts}
      data={[...options].map(([id, name]) => ({ value: id, label: name }))}
      nothingFoundMessage={
        term.trim().length < 2
          ? 'Type at least 2 characters'
          : hits.isFetching
            ? 'Searching…'
            : 'Nothing matches'
      }
      error={error}
      comboboxProps={{ withinPortal: true }}
    />
  );
}

/** A value as the API carries it → what the input for its kind holds. */
function asString(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/**
 * The input for one custom field, by kind. `onChange` gets the value in the API's shape
 * (see CustomValue); an emptied input gives null.
 */
export function CustomFieldInput({
  field,
  value,
  onChange,
  error,
  label = field.label,
  autoFocus,
}: {
  field: CustomField;
  value: unknown;
  onChange: (value: CustomValue) => void;
  error?: ReactNode;
  label?: string;
  autoFocus?: boolean;
}) {
  const common = { label, error, required: field.required };
  switch (field.kind) {
    case 'number':
      return (
        <NumberInput
          {...common}
          autoFocus={autoFocus}
          value={typeof value === 'number' ? value : ''}
          onChange={(v) => {
            onChange(typeof v === 'number' ? v : v.trim() === '' ? null : Number(v));
          }}
          allowDecimal
          decimalSeparator="."
        />
      );
    case 'date':
      return (
        <TextInput
          {...common}
          autoFocus={autoFocus}
          type="date"
          value={asString(value)}
          onChange={(e) => {
            onChange(e.currentTarget.value || null);
          }}
        />
      );
    case 'boolean':
      return (
        <Checkbox
          label={label}
          error={error}
          autoFocus={autoFocus}
          checked={value === true}
          onChange={(e) => {
            onChange(e.currentTarget.checked);
          }}
        />
      );
    case 'select':
      return (
        <Select
          {...common}
          autoFocus={autoFocus}
          data={field.options}
          value={typeof value === 'string' ? value : null}
          onChange={(v) => {
            onChange(v);
          }}
          clearable={!field.required}
          comboboxProps={{ withinPortal: true }}
        />
      );
    case 'multi_select':
      return (
        <MultiSelect
          {...common}
          autoFocus={autoFocus}
          data={field.options}
          value={Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []}
          onChange={(v) => {
            onChange(v.length ? v : null);
          }}
          clearable
          comboboxProps={{ withinPortal: true }}
        />
      );
    case 'currency': {
      const money = isMoney(value) ? value : { amount: '', currency: 'EUR' };
      return (
        <Group gap="xs" align="flex-start" wrap="nowrap">
          <TextInput
            {...common}
            autoFocus={autoFocus}
            inputMode="decimal"
            placeholder="0.00"
            value={money.amount}
            onChange={(e) => {
              const amount = e.currentTarget.value.trim();
              onChange(amount ? { amount, currency: money.currency } : null);
            }}
            style={{ flex: 1 }}
          />
          <Select
            label={`${label} currency`}
            data={CURRENCIES}
            value={money.currency}
            onChange={(currency) => {
              if (currency && money.amount) onChange({ amount: money.amount, currency });
              else if (currency) onChange({ amount: '', currency });
            }}
            allowDeselect={false}
            w={100}
            comboboxProps={{ withinPortal: true }}
          />
        </Group>
      );
    }
    case 'link':
      return field.link_object ? (
        <RecordPicker
          collection={field.link_object}
          label={label}
          required={field.required}
          error={error}
          value={typeof value === 'string' ? value : null}
          onChange={onChange}
        />
      ) : null;
    case 'text':
    default:
      return (
        <TextInput
          {...common}
          autoFocus={autoFocus}
          value={asString(value)}
          onChange={(e) => {
            onChange(e.currentTarget.value === '' ? null : e.currentTarget.value);
          }}
        />
      );
  }
}

/** A custom field's value for reading. */
export function CustomFieldValue({ field, value }: { field: CustomField; value: unknown }) {
  if (value === null || value === undefined || value === '') return <>–</>;
  switch (field.kind) {
    case 'boolean':
      return <>{value === true ? 'Yes' : 'No'}</>;
    case 'date':
      return <>{typeof value === 'string' ? formatDate(value) : '–'}</>;
    case 'number':
      return <>{typeof value === 'number' ? value.toLocaleString() : asString(value)}</>;
    case 'multi_select':
      return Array.isArray(value) && value.length ? (
        <Group gap={4}>
          {value.map((v) => (
            <Badge key={String(v)} variant="light" radius="sm" size="sm">
              {String(v)}
            </Badge>
          ))}
        </Group>
      ) : (
        <>–</>
      );
    case 'currency':
      return <>{isMoney(value) ? formatMoney(value.amount, value.currency) : '–'}</>;
    case 'link':
      return field.link_object && typeof value === 'string' ? (
        <RecordLink collection={field.link_object} id={value} />
      ) : (
        <>–</>
      );
    default:
      return <>{asString(value)}</>;
  }
}

/** One custom field on a record page: its value, and a pencil to edit it in place. */
function CustomFieldRow({
  field,
  value,
  canEdit,
  saving,
  error,
  onSave,
}: {
  field: CustomField;
  value: unknown;
  canEdit: boolean;
  saving: boolean;
  error: string | undefined;
  onSave: (value: CustomValue) => void;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<CustomValue>(null);
  const save = () => {
    setEditing(false);
    onSave(isEmptyValue(draft) ? null : draft);
  };
  return (
    <Stack gap={2} data-testid={`cf-${field.key}`}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.4}>
        {field.label}
        {field.required ? ' *' : ''}
      </Text>
      {editing ? (
        <form
          aria-label={`Edit ${field.label}`}
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setEditing(false);
          }}
        >
          <Group gap={4} wrap="nowrap" align="flex-end">
            <div style={{ flex: 1 }}>
              <CustomFieldInput
                field={field}
                value={draft}
                onChange={setDraft}
                label={field.label}
                autoFocus
              />
            </div>
            <ActionIcon type="submit" variant="light" color="teal" aria-label={`Save ${field.label}`}>
              <IconCheck size={14} />
            </ActionIcon>
            <ActionIcon
              variant="subtle"
              color="gray"
              aria-label="Cancel"
              onClick={() => {
                setEditing(false);
              }}
            >
              <IconX size={14} />
            </ActionIcon>
          </Group>
        </form>
      ) : (
        <Group gap={4} wrap="nowrap">
          <Text size="sm" component="div" data-testid={`cf-value-${field.key}`}>
            <CustomFieldValue field={field} value={value} />
          </Text>
          {canEdit ? (
            <ActionIcon
              variant="subtle"
              color="gray"
              size="sm"
              aria-label={`Edit ${field.label}`}
              loading={saving}
              onClick={() => {
                setDraft((value ?? null) as CustomValue);
                setEditing(true);
              }}
            >
              <IconPencil size={14} />
            </ActionIcon>
          ) : null}
        </Group>
      )}
      {error ? (
        <Text size="xs" c="red" role="alert">
          {error}
        </Text>
      ) : null}
    </Stack>
  );
}

/**
 * The custom fields of a record page: every field defined for the object, its value, and
 * in-place editing that PATCHes `{custom_fields: {key: value}}` (null removes a value).
 */
export function CustomFieldsCard({
  object,
  record,
  canEdit,
  saving,
  error,
  onSave,
}: {
  object: Collection;
  record: object;
  canEdit: boolean;
  saving: boolean;
  error: ApiError | null;
  onSave: (values: Record<string, CustomValue>) => void;
}) {
  const fields = useCustomFields(object);
  if (!fields.data || fields.data.length === 0) return null;
  const values = customFieldsOf(record);
  return (
    <Card withBorder padding="md" data-testid="custom-fields">
      <Title order={3} fz={16} mb="sm">
        More fields
      </Title>
      <SimpleGrid cols={2} spacing="md">
        {fields.data.map((f) => (
          <CustomFieldRow
            key={f.id}
            field={f}
            value={values[f.key]}
            canEdit={canEdit}
            saving={saving}
            error={error?.fieldError(`custom_fields.${f.key}`)}
            onSave={(v) => {
              onSave({ [f.key]: v });
            }}
          />
        ))}
      </SimpleGrid>
    </Card>
  );
}
