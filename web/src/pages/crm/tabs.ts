import {
  IconAddressBook,
  IconBuilding,
  IconCurrencyDollar,
  IconLayoutKanban,
  IconUserQuestion,
  type Icon,
} from '@tabler/icons-react';
import { useOutletContext } from 'react-router';

interface CrmTab {
  path: string;
  label: string;
  permission: string;
  icon: Icon;
}

export const CRM_TABS: readonly CrmTab[] = [
  { path: 'pipeline', label: 'Pipeline', permission: 'deals:read', icon: IconLayoutKanban },
  { path: 'deals', label: 'Deals', permission: 'deals:read', icon: IconCurrencyDollar },
  { path: 'companies', label: 'Companies', permission: 'companies:read', icon: IconBuilding },
  { path: 'contacts', label: 'Contacts', permission: 'contacts:read', icon: IconAddressBook },
  { path: 'leads', label: 'Leads', permission: 'leads:read', icon: IconUserQuestion },
];

export interface CrmOutletContext {
  /** A record page names itself in the browser tab (null when it goes). */
  setRecordTitle: (title: string | null) => void;
}

export function useCrmOutlet(): CrmOutletContext | undefined {
  return useOutletContext<CrmOutletContext | undefined>();
}
