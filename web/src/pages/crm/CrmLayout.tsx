import { Tabs, Text } from '@mantine/core';
import { useState } from 'react';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { Page } from '../../components/Page';
import { MODULES } from '../../modules';
import { useCanSome } from './permissions';
import { CRM_TABS, type CrmOutletContext } from './tabs';

const CRM = MODULES.find((m) => m.path === '/crm') ?? MODULES[0];

/** The CRM section: a tab per list (Pipeline first), and the record pages below them. */
export function CrmLayout() {
  const navigate = useNavigate();
  const canSome = useCanSome();
  const { pathname } = useLocation();
  const [recordTitle, setRecordTitle] = useState<string | null>(null);
  const first = pathname.replace(/^\/crm\/?/, '').split('/')[0] ?? '';
  const section = first === '' ? 'pipeline' : first;
  const current = CRM_TABS.find((t) => t.path === section);
  const visible = CRM_TABS.filter((t) => canSome(t.permission));
  const label = current?.label ?? 'CRM';
  return (
    <Page
      title={CRM?.label ?? 'CRM'}
      wide={section === 'pipeline'}
      documentTitle={recordTitle ?? (current ? `${label} · CRM` : 'CRM')}
      description={<Text span>{CRM?.summary}</Text>}
    >
      <Tabs
        value={current?.path ?? null}
        onChange={(tab) => {
          if (tab) void navigate(tab === 'pipeline' ? '/crm' : `/crm/${tab}`);
        }}
        keepMounted={false}
      >
        <Tabs.List aria-label="CRM pages">
          {visible.map(({ path, label: tabLabel, icon: IconComponent }) => (
            <Tabs.Tab key={path} value={path} leftSection={<IconComponent size={16} stroke={1.6} />}>
              {tabLabel}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <Outlet context={{ setRecordTitle } satisfies CrmOutletContext} />
    </Page>
  );
}
