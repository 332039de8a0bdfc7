import { Tabs, Text } from '@mantine/core';
import { IconBook, IconChartBar, IconInbox } from '@tabler/icons-react';
import { Navigate, Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { Page } from '../../components/Page';
import { MODULES } from '../../modules';

const HELPDESK = MODULES.find((m) => m.path === '/helpdesk');

const TABS = [
  { path: 'inbox', label: 'Inbox', icon: IconInbox },
  { path: 'dashboard', label: 'Dashboard', icon: IconChartBar },
  { path: 'kb', label: 'Knowledge base', icon: IconBook },
] as const;

/** The helpdesk section: Inbox (with the ticket pages), Dashboard, Knowledge base. */
export function HelpdeskLayout() {
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const first = pathname.replace(/^\/helpdesk\/?/, '').split('/')[0] ?? '';
  const section = first === '' || first === 'tickets' ? 'inbox' : first;
  const current = TABS.find((t) => t.path === section);
  return (
    <Page
      title={HELPDESK?.label ?? 'Helpdesk'}
      wide
      documentTitle={current ? `${current.label} · Helpdesk` : 'Helpdesk'}
      description={<Text span>{HELPDESK?.summary}</Text>}
    >
      <Tabs
        value={current?.path ?? null}
        onChange={(tab) => {
          if (tab) void navigate(tab === 'inbox' ? '/helpdesk' : `/helpdesk/${tab}`);
        }}
        keepMounted={false}
      >
        <Tabs.List aria-label="Helpdesk pages">
          {TABS.map(({ path, label, icon: IconComponent }) => (
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

/** `/tickets/<id>` (the API's name) opens the ticket page. */
export function TicketRedirect() {
  const { id = '' } = useParams();
  return <Navigate to={`/helpdesk/tickets/${id}`} replace />;
}
