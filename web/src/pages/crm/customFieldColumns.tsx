import { type CustomField, customFieldsOf } from '../../api/customFields';
import { CustomFieldValue } from './CustomFields';
import type { ColumnSpec } from './ListView';

/** List columns for an object's custom fields: hidden until chosen, sortable by `cf.<key>`. */
export function customFieldColumns<R extends object>(fields: readonly CustomField[]): ColumnSpec<R>[] {
  return fields.map((f): ColumnSpec<R> => ({
    key: `cf.${f.key}`,
    label: f.label,
    // a list of options has no order to sort by
    ...(f.kind === 'multi_select' ? {} : { sort: `cf.${f.key}` }),
    defaultVisible: false,
    render: (row: R) => <CustomFieldValue field={f} value={customFieldsOf(row)[f.key]} />,
  }));
}
