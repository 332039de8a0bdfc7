import { Tabs, Text } from '@mantine/core';
import { Outlet, useLocation, useNavigate } from 'react-router';
import { Page } from '../../components/Page';
import { MODULES } from '../../modules';
import { useCanSome } from '../crm/permissions';
import { SALES_TABS, salesSection } from './tabs';

const SALES = MODULES.find((m) => m.path === '/sales');

/** The sales section: a tab per page, the record pages (store, order, invoice) below them. */
export function SalesLayout() {
  const navigate = useNavigate();
  const canSome = useCanSome();
  const { pathname } = useLocation();
  const section = salesSection(pathname);
  const current = SALES_TABS.find((t) => t.path === section);
  const visible = SALES_TABS.filter((t) => canSome(t.permission));
  return (
    <Page
      title={SALES?.label ?? 'Sales'}
      wide
      documentTitle={current ? `${current.label} · Sales` : 'Sales'}
      description={<Text span>{SALES?.summary}</Text>}
    >
      <Tabs
        value={current?.path ?? null}
        onChange={(tab) => {
          if (tab) void navigate(tab === 'dashboard' ? '/sales' : `/sales/${tab}`);
        }}
        keepMounted={false}
      >
        <Tabs.List aria-label="Sales pages" style={{ flexWrap: 'nowrap', overflowX: 'auto' }}>
          {visible.map(({ path, label, icon: IconComponent }) => (
            <Tabs.Tab key={path} value={path} leftSection={<IconComponent size={16} stroke={1.6} />}>
              {label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <Outlet />
    </Page>
  );
}
