import { Button, Group, Pagination, Stack, Table, Text, Title } from '@mantine/core';
import { IconDownload } from '@tabler/icons-react';
import { useState } from 'react';
import { type CellError, cellErrorsCsv, ERRORS_PER_PAGE } from './importErrors';

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 10_000);
}

/**
 * The error report of an import, shared by every import wizard: every bad cell with its row,
 * column and reason, a page at a time, and (with `downloadName`) a CSV of the whole report.
 */
export function ImportErrorTable({
  errors,
  truncated = false,
  downloadName,
}: {
  errors: readonly CellError[];
  /** The server listed only the first errors. */
  truncated?: boolean;
  downloadName?: string;
}) {
  const [page, setPage] = useState(1);
  const pages = Math.max(1, Math.ceil(errors.length / ERRORS_PER_PAGE));
  const shown = errors.slice((page - 1) * ERRORS_PER_PAGE, page * ERRORS_PER_PAGE);
  if (errors.length === 0) {
    return (
      <Text size="sm" c="teal" data-testid="no-errors">
        Every row is valid.
      </Text>
    );
  }
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Title order={3} fz={16}>
          {errors.length.toLocaleString()}
          {truncated ? '+' : ''} {errors.length === 1 ? 'problem' : 'problems'}
        </Title>
        {downloadName ? (
          <Button
            variant="default"
            size="xs"
            leftSection={<IconDownload size={14} />}
            onClick={() => {
              download(downloadName, cellErrorsCsv(errors));
            }}
          >
            Download the error report (CSV)
          </Button>
        ) : null}
      </Group>
      {truncated ? (
        <Text size="xs" c="dimmed">
          Only the first errors are listed: fix these and check the file again.
        </Text>
      ) : null}
      <Table.ScrollContainer minWidth={420}>
        <Table striped aria-label="Import errors" verticalSpacing={6}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={80}>Row</Table.Th>
              <Table.Th w={180}>Column</Table.Th>
              <Table.Th>Problem</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((e, i) => (
              <Table.Tr key={`${String(e.row)}-${e.column}-${String(i)}`}>
                <Table.Td ff="monospace">{e.row}</Table.Td>
                <Table.Td>{e.column}</Table.Td>
                <Table.Td>{e.message}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {pages > 1 ? (
        <Pagination
          total={pages}
          value={page}
          onChange={setPage}
          size="sm"
          getControlProps={(control) => ({ 'aria-label': `${control} page` })}
        />
      ) : null}
    </Stack>
  );
}
