import { lazy, type ReactNode, Suspense } from 'react';
import { Navigate, type RouteObject } from 'react-router';
import { RequireAuth, RequirePermission } from './auth/RequireAuth';
import { AppLayout } from './components/AppLayout';
import { PageLoader } from './components/PageLoader';
import { MODULES } from './modules';
import { ComingSoon } from './pages/ComingSoon';
import { PipelinePage } from './pages/crm/Board';
import { CrmLayout } from './pages/crm/CrmLayout';
import { CrmNotFound } from './pages/crm/CrmNotFound';
import { ImportContactsPage } from './pages/crm/ImportWizard';
import { CompaniesPage, ContactsPage, DealsPage, LeadsPage } from './pages/crm/Lists';
import { CompanyPage, ContactPage, DealPage, LeadPage } from './pages/crm/Records';
import { Dashboard } from './pages/Dashboard';
import { HelpdeskLayout, TicketRedirect } from './pages/helpdesk/HelpdeskLayout';
import { InboxPage } from './pages/helpdesk/Inbox';
import { KnowledgeBasePage } from './pages/helpdesk/KnowledgeBase';
import { TicketPage } from './pages/helpdesk/TicketPage';
import { SlaSettingsPage } from './pages/settings/SlaSettings';
import { TeamsSettingsPage } from './pages/settings/TeamsSettings';
import { LoginPage } from './pages/Login';
import { CallsPage } from './pages/sales/Calls';
import { SalesImportsPage, SalesImportWizard } from './pages/sales/Imports';
import { OrderEntryPage } from './pages/sales/OrderEntry';
import { InvoicePage, OrderPage } from './pages/sales/OrderPage';
import { OrdersPage } from './pages/sales/Orders';
import { SalesLayout } from './pages/sales/SalesLayout';
import { StorePage } from './pages/sales/StorePage';
import { StoresPage } from './pages/sales/Stores';
import { NotFound } from './pages/NotFound';
import { ApiKeysPage } from './pages/settings/ApiKeys';
import { AuditPage } from './pages/settings/Audit';
import { CustomFieldsPage } from './pages/settings/CustomFields';
import { RolesPage } from './pages/settings/Roles';
import { SettingsIndex, SettingsLayout } from './pages/settings/SettingsLayout';
import { SETTINGS_TABS } from './pages/settings/tabs';
import { UsersPage } from './pages/settings/Users';

// ECharts is only needed on the status page: keep it out of the first load.
const StatusPage = lazy(async () => ({ default: (await import('./pages/Status')).StatusPage }));
// ...and on the helpdesk dashboard, and the sales charts.
const SalesDashboardPage = lazy(async () => ({
  default: (await import('./pages/sales/Dashboard')).SalesDashboardPage,
}));
const GapsPage = lazy(async () => ({ default: (await import('./pages/sales/Gaps')).GapsPage }));
const TrendsPage = lazy(async () => ({ default: (await import('./pages/sales/Trends')).TrendsPage }));
const MarketSharePage = lazy(async () => ({
  default: (await import('./pages/sales/MarketShare')).MarketSharePage,
}));
const lazyPage = (element: ReactNode) => <Suspense fallback={<PageLoader />}>{element}</Suspense>;
const HelpdeskDashboardPage = lazy(async () => ({
  default: (await import('./pages/helpdesk/HelpdeskDashboard')).HelpdeskDashboardPage,
}));

/** Modules with their own pages; the others show their coming-soon page. */
export const BUILT = new Set(['/crm', '/helpdesk', '/sales']);

const SETTINGS_PAGES: Record<string, { element: ReactNode; what: string }> = {
  users: { element: <UsersPage />, what: 'the users of your organisation' },
  roles: { element: <RolesPage />, what: 'the roles of your organisation' },
  'api-keys': { element: <ApiKeysPage />, what: 'the API keys of your organisation' },
  audit: { element: <AuditPage />, what: 'the audit log' },
  'custom-fields': { element: <CustomFieldsPage />, what: 'the custom fields of your organisation' },
  sla: { element: <SlaSettingsPage />, what: 'the SLA policies and calendars of your organisation' },
  teams: { element: <TeamsSettingsPage />, what: 'the support teams of your organisation' },
};

export const routes: RouteObject[] = [
  { path: 'login', element: <LoginPage /> },
  {
    element: <AppLayout />,
    children: [
      // Public: the status page works signed out (monitoring, "is it me or the server?").
      {
        path: 'status',
        element: (
          <Suspense fallback={<PageLoader />}>
            <StatusPage />
          </Suspense>
        ),
      },
      {
        element: <RequireAuth />,
        children: [
          { index: true, element: <Dashboard /> },
          {
            path: 'crm',
            element: <CrmLayout />,
            children: [
              { index: true, element: <PipelinePage /> },
              { path: 'deals', element: <DealsPage /> },
              { path: 'deals/:id', element: <DealPage /> },
              { path: 'companies', element: <CompaniesPage /> },
              { path: 'companies/:id', element: <CompanyPage /> },
              { path: 'contacts', element: <ContactsPage /> },
              { path: 'contacts/import', element: <ImportContactsPage /> },
              { path: 'contacts/:id', element: <ContactPage /> },
              { path: 'leads', element: <LeadsPage /> },
              { path: 'leads/:id', element: <LeadPage /> },
              { path: '*', element: <CrmNotFound /> },
            ],
          },
          {
            path: 'helpdesk',
            element: <HelpdeskLayout />,
            children: [
              { index: true, element: <InboxPage /> },
              { path: 'tickets/:id', element: <TicketPage /> },
              {
                path: 'dashboard',
                element: (
                  <Suspense fallback={<PageLoader />}>
                    <HelpdeskDashboardPage />
                  </Suspense>
                ),
              },
              { path: 'kb', element: <KnowledgeBasePage /> },
              { path: '*', element: <NotFound /> },
            ],
          },
          {
            path: 'sales',
            element: <SalesLayout />,
            children: [
              { index: true, element: lazyPage(<SalesDashboardPage />) },
              { path: 'dashboard', element: <Navigate to="/sales" replace /> },
              { path: 'calls', element: <CallsPage /> },
              { path: 'stores', element: <StoresPage /> },
              { path: 'stores/:id', element: <StorePage /> },
              { path: 'orders', element: <OrdersPage /> },
              { path: 'orders/new', element: <OrderEntryPage /> },
              { path: 'orders/:id', element: <OrderPage /> },
              { path: 'invoices/:id', element: <InvoicePage /> },
              { path: 'gaps', element: lazyPage(<GapsPage />) },
              { path: 'trends', element: lazyPage(<TrendsPage />) },
              { path: 'market-share', element: lazyPage(<MarketSharePage />) },
              { path: 'imports', element: <SalesImportsPage /> },
              { path: 'imports/new', element: <SalesImportWizard /> },
              { path: '*', element: <NotFound /> },
            ],
          },
          // the other name for the inbox
          { path: 'tickets', element: <Navigate to="/helpdesk" replace /> },
          { path: 'tickets/:id', element: <TicketRedirect /> },
          ...MODULES.filter((m) => !BUILT.has(m.path)).map((m) => ({
            path: `${m.path.slice(1)}/*`,
            element: <ComingSoon module={m} />,
          })),
          {
            path: 'settings',
            element: <SettingsLayout />,
            children: [
              { index: true, element: <SettingsIndex /> },
              ...SETTINGS_TABS.map((tab) => {
                const page = SETTINGS_PAGES[tab.path];
                return {
                  path: tab.path,
                  element: (
                    <RequirePermission permission={tab.permission} what={page?.what ?? tab.label}>
                      {page?.element}
                    </RequirePermission>
                  ),
                };
              }),
            ],
          },
          { path: '*', element: <NotFound /> },
        ],
      },
    ],
  },
];
