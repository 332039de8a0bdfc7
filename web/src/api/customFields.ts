import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ApiError, unwrap } from './client';
import { useApi } from './context';
import type { Collection } from './crm';

/**
 * Custom fields per object (issue 4, item 5). The schema types `object` and `link_object`
 * as plain strings; here they are narrowed to the CRM collections they always are.
 */
export const CUSTOM_FIELD_KINDS = [
  'text',
  'number',
  'date',
  'boolean',
  'select',
  'multi_select',
  'currency',
  'link',
] as const;
export type CustomFieldKind = (typeof CUSTOM_FIELD_KINDS)[number];

export const KIND_LABELS: Record<CustomFieldKind, string> = {
  text: 'Text',
  number: 'Number',
  date: 'Date',
  boolean: 'Yes / no',
  select: 'Single select',
  multi_select: 'Multi select',
  currency: 'Money (amount + currency)',
  link: 'Link to a record',
};

export const OBJECT_LABELS: Record<Collection, string> = {
  contacts: 'Contacts',
  companies: 'Companies',
  leads: 'Leads',
  deals: 'Deals',
};

export interface CustomField {
  id: string;
  object: Collection;
  key: string;
  label: string;
  kind: CustomFieldKind;
  options: string[];
  link_object: Collection | null;
  required: boolean;
  version: number;
  created_at: string;
}

export interface NewCustomField {
  object: Collection;
  key: string;
  label: string;
  kind: CustomFieldKind;
  options?: string[];
  link_object?: Collection;
  required?: boolean;
}

export interface CustomFieldChange {
  label?: string;
  options?: string[];
  required?: boolean;
  version: number;
}

export interface Money {
  amount: string;
  currency: string;
}

/**
 * A custom field's value as the API carries it: text → string, number → number, date →
 * "YYYY-MM-DD", boolean → boolean, select → one option, multi_select → options, currency →
 * {amount (decimal string), currency}, link → the linked record's id. null removes it.
 */
export type CustomValue = string | number | boolean | string[] | Money | null;

/** Defining an object's custom fields takes `<object>:manage` (e.g. `contacts:manage`). */
export const managePermission = (object: Collection) => `${object}:manage`;

/** Settings → Custom fields shows for anyone who may define the fields of some object. */
export const CUSTOM_FIELDS_PERMISSIONS = (['contacts', 'companies', 'leads', 'deals'] as const).map(
  managePermission,
);

/** The custom field values of a record (`custom_fields`, {} when it has none). */
export function customFieldsOf(record: object): Record<string, unknown> {
  const values = (record as { custom_fields?: unknown }).custom_fields;
  return typeof values === 'object' && values !== null && !Array.isArray(values)
    ? (values as Record<string, unknown>)
    : {};
}

export function isMoney(value: unknown): value is Money {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Money).amount === 'string' &&
    typeof (value as Money).currency === 'string'
  );
}

/** Whether a value counts as "not set" (sent as null). */
export function isEmptyValue(value: CustomValue | undefined): boolean {
  return (
    value === null ||
    value === undefined ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (isMoney(value) && value.amount.trim() === '')
  );
}

/** "Deal size" → "deal_size": the key a label suggests (lowercase letters, digits, underscores). */
export function keyFromLabel(label: string): string {
  return label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, '_$1')
    .slice(0, 40);
}

export const customFieldKeys = {
  all: ['crm', 'custom-fields'] as const,
  list: (object: Collection) => ['crm', 'custom-fields', object] as const,
};

/** The (active) custom fields of an object. */
export function useCustomFields(object: Collection, enabled = true) {
  const api = useApi();
  return useQuery<CustomField[], ApiError>({
    queryKey: customFieldKeys.list(object),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/api/v1/custom-fields', { signal, params: { query: { object } } })))
        .data as CustomField[],
    enabled,
    staleTime: 5 * 60_000,
  });
}

function useInvalidateFields() {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: customFieldKeys.all });
}

export function useCreateCustomField() {
  const api = useApi();
  const invalidate = useInvalidateFields();
  return useMutation<CustomField, ApiError, NewCustomField>({
    mutationFn: async (body) =>
      (await unwrap(api.POST('/api/v1/custom-fields', { body }))).data as CustomField,
    onSuccess: invalidate,
  });
}

export function useUpdateCustomField() {
  const api = useApi();
  const invalidate = useInvalidateFields();
  return useMutation<CustomField, ApiError, { id: string; change: CustomFieldChange }>({
    mutationFn: async ({ id, change }) =>
      (await unwrap(api.PATCH('/api/v1/custom-fields/{id}', { params: { path: { id } }, body: change })))
        .data as CustomField,
    onSettled: invalidate,
  });
}

export function useArchiveCustomField() {
  const api = useApi();
  const invalidate = useInvalidateFields();
  return useMutation<unknown, ApiError, string>({
    mutationFn: async (id) => unwrap(api.DELETE('/api/v1/custom-fields/{id}', { params: { path: { id } } })),
    onSettled: invalidate,
  });
}
