import { Combobox, Group, Loader, Text, TextInput, useCombobox } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconSearch } from '@tabler/icons-react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { groupHits, isRecordType, recordPath, SEARCH_DEBOUNCE_MS, useSearch } from '../api/crm';

/**
 * The header's search over companies, contacts, leads and deals (`GET /api/v1/search`):
 * debounced, typo-tolerant on the server, results grouped by type; arrow keys move through
 * them, Enter opens the record, Escape closes.
 */
export function GlobalSearch() {
  const navigate = useNavigate();
  const [value, setValue] = useState('');
  const [term] = useDebouncedValue(value, SEARCH_DEBOUNCE_MS);
  const combobox = useCombobox({
    onDropdownClose: () => {
      combobox.resetSelectedOption();
    },
  });
  const search = useSearch(term);
  const ready = term.trim().length >= 2;
  const groups = ready ? groupHits(search.data ?? []) : [];

  const open = (id: string) => {
    const [type, recordId] = id.split(':');
    if (!type || !recordId || !isRecordType(type)) return;
    setValue('');
    combobox.closeDropdown();
    void navigate(recordPath(type, recordId));
  };

  return (
    <Combobox store={combobox} onOptionSubmit={open} withinPortal position="bottom-start" width={420}>
      <Combobox.Target>
        <TextInput
          placeholder="Search companies, people, deals…"
          aria-label="Search"
          w={{ base: 180, sm: 320 }}
          leftSection={<IconSearch size={16} />}
          rightSection={search.isFetching && ready ? <Loader size={14} /> : null}
          value={value}
          onChange={(e) => {
            setValue(e.currentTarget.value);
            combobox.openDropdown();
            combobox.updateSelectedOptionIndex();
          }}
          onFocus={() => {
            combobox.openDropdown();
          }}
          onBlur={() => {
            combobox.closeDropdown();
          }}
        />
      </Combobox.Target>
      <Combobox.Dropdown hidden={value.trim().length < 2}>
        <Combobox.Options aria-label="Search results">
          {groups.map((g) => (
            <Combobox.Group key={g.type} label={g.label}>
              {g.hits.map((hit) => (
                <Combobox.Option key={hit.id} value={`${hit.record_type}:${hit.id}`}>
                  <Group gap="xs" wrap="nowrap">
                    <Text size="sm" truncate>
                      {hit.title}
                    </Text>
                  </Group>
                </Combobox.Option>
              ))}
            </Combobox.Group>
          ))}
          {ready && search.isSuccess && groups.length === 0 ? (
            <Combobox.Empty>Nothing found for “{term.trim()}”</Combobox.Empty>
          ) : null}
          {search.isError ? <Combobox.Empty>Search failed: {search.error.title}</Combobox.Empty> : null}
          {!ready || search.isPending ? <Combobox.Empty>Searching…</Combobox.Empty> : null}
        </Combobox.Options>
      </Combobox.Dropdown>
    </Combobox>
  );
}
