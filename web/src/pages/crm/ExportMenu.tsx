import { Button, Menu } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconChevronDown, IconDownload, IconFileSpreadsheet, IconFileTypeCsv } from '@tabler/icons-react';
import { useState } from 'react';
import { ApiError } from '../../api/client';
import { useApi } from '../../api/context';
import { downloadContactsExport, type ExportFormat } from '../../api/imports';

/**
 * "Export" on the contacts list: CSV or XLSX of what the list shows (its filters and sort),
 * as the server writes it (PII masked without `pii:read`).
 */
export function ExportMenu({ query }: { query: Record<string, string> }) {
  const api = useApi();
  const [busy, setBusy] = useState<ExportFormat | null>(null);
  const download = async (format: ExportFormat) => {
    setBusy(format);
    try {
      await downloadContactsExport(api, format, query);
    } catch (e) {
      notifications.show({
        color: 'red',
        title: 'Export failed',
        message:
          e instanceof ApiError
            ? e.status === 403
              ? 'You may not export contacts.'
              : (e.detail ?? e.title)
            : String(e),
      });
    } finally {
      setBusy(null);
    }
  };
  return (
    <Menu position="bottom-end" shadow="md" withinPortal>
      <Menu.Target>
        <Button
          variant="default"
          leftSection={<IconDownload size={16} />}
          rightSection={<IconChevronDown size={14} />}
          loading={busy !== null}
        >
          Export
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Contacts as shown</Menu.Label>
        <Menu.Item leftSection={<IconFileTypeCsv size={16} />} onClick={() => void download('csv')}>
          CSV
        </Menu.Item>
        <Menu.Item leftSection={<IconFileSpreadsheet size={16} />} onClick={() => void download('xlsx')}>
          Excel (XLSX)
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
