import { Tabs } from '@mantine/core';
import { Navigate, Outlet, useLocation, useNavigate } from 'react-router';
import { useCan } from '../../auth/me';
import { NoAccess } from '../../components/NoAccess';
import { Page } from '../../components/Page';
import { SETTINGS } from '../../modules';
import { canAny, SETTINGS_TABS } from './tabs';

/** Settings: a tab per page the signed-in user may see; a tab they may not see is not shown. */
export function SettingsLayout() {
  const can = useCan();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const visible = SETTINGS_TABS.filter((t) => canAny(can, t.permission));
  const current = SETTINGS_TABS.find(
    (t) => pathname === `/settings/${t.path}` || pathname.startsWith(`/settings/${t.path}/`),
  );
  return (
    <Page
      title={SETTINGS.label}
      documentTitle={current ? `${current.label} · ${SETTINGS.label}` : SETTINGS.label}
      description={SETTINGS.description}
    >
      {visible.length > 0 ? (
        <Tabs
          value={current?.path ?? null}
          onChange={(tab) => {
            if (tab) void navigate(`/settings/${tab}`);
          }}
          keepMounted={false}
        >
          <Tabs.List aria-label="Settings pages">
            {visible.map(({ path, label, icon: IconComponent }) => (
              <Tabs.Tab key={path} value={path} leftSection={<IconComponent size={16} stroke={1.6} />}>
                {label}
              </Tabs.Tab>
            ))}
          </Tabs.List>
        </Tabs>
      ) : null}
      <Outlet />
    </Page>
  );
}

/** /settings itself: the first page this user may see. */
export function SettingsIndex() {
  const can = useCan();
  const first = SETTINGS_TABS.find((t) => canAny(can, t.permission));
  if (!first) return <NoAccess what="the settings of your organisation" />;
  return <Navigate to={`/settings/${first.path}`} replace />;
}
