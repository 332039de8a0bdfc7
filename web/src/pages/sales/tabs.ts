import {
  IconBuildingStore,
  IconChartLine,
  IconChartPie,
  IconFileImport,
  IconLayoutDashboard,
  IconMapPin,
  IconPhoneCall,
  IconReceipt,
  type Icon,
} from '@tabler/icons-react';

interface SalesTab {
  path: string;
  label: string;
  /** Shown to users who have this permission (or its `:own` form). */
  permission: string;
  icon: Icon;
}

/** The sales section's pages, in the order of its tabs. */
export const SALES_TABS: readonly SalesTab[] = [
  { path: 'dashboard', label: 'Dashboard', permission: 'sales:read', icon: IconLayoutDashboard },
  { path: 'calls', label: "Today's calls", permission: 'stores:read', icon: IconPhoneCall },
  { path: 'stores', label: 'Stores', permission: 'stores:read', icon: IconBuildingStore },
  { path: 'orders', label: 'Orders', permission: 'orders:read', icon: IconReceipt },
  { path: 'gaps', label: 'Distribution gaps', permission: 'sales:read', icon: IconMapPin },
  { path: 'trends', label: 'Trends', permission: 'sales:read', icon: IconChartLine },
  { path: 'market-share', label: 'Market share', permission: 'sales:read', icon: IconChartPie },
  { path: 'imports', label: 'Imports', permission: 'sales:import', icon: IconFileImport },
];

/** The tab a sales URL belongs to (record pages belong to their list's tab). */
export function salesSection(pathname: string): string {
  const first = pathname.replace(/^\/sales\/?/, '').split('/')[0] ?? '';
  if (first === '') return 'dashboard';
  if (first === 'invoices') return 'orders';
  return first;
}
