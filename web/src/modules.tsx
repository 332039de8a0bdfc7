import {
  IconAddressBook,
  IconChartHistogram,
  IconHeadset,
  IconPackages,
  IconReportMoney,
  IconSettings,
  IconTool,
  type Icon,
} from '@tabler/icons-react';

/** A business module of Meridian, as the shell shows it in navigation. */
export interface ModuleInfo {
  path: string;
  label: string;
  /** What the module is for, in a few words (navigation tooltip, dashboard card). */
  summary: string;
  /** What it will hold, one sentence (its empty state until it ships). */
  description: string;
  icon: Icon;
}

export const MODULES: readonly ModuleInfo[] = [
  {
    path: '/crm',
    label: 'CRM',
    summary: 'Contacts, companies and deals',
    description:
      'Contacts, companies, leads and deals, with pipelines, activity timelines and lead scores in one place.',
    icon: IconAddressBook,
  },
  {
    path: '/helpdesk',
    label: 'Helpdesk',
    summary: 'Tickets with SLA clocks',
    description:
      'A shared inbox for customer and maintenance tickets, with SLA clocks, priorities and the sentiment of every message.',
    icon: IconHeadset,
  },
  {
    path: '/supply',
    label: 'Supply',
    summary: 'Stock, purchasing and vendors',
    description:
      'Items, stock levels across sites, purchase orders, vendor scores and reorder proposals from demand forecasts.',
    icon: IconPackages,
  },
  {
    path: '/sales',
    label: 'Sales',
    summary: 'Orders, territories and distributors',
    description:
      'Orders, price lists, territories and distributor sales operations, with call lists and next-order predictions.',
    icon: IconReportMoney,
  },
  {
    path: '/assets',
    label: 'Assets',
    summary: 'Equipment and maintenance',
    description:
      'Equipment, maintenance work orders and sensor alarms, with failure risk scored from live readings.',
    icon: IconTool,
  },
  {
    path: '/analytics',
    label: 'Analytics',
    summary: 'Dashboards and forecasts',
    description:
      'Dashboards, forecasts with prediction intervals and anomaly detection, computed in-house on your own data.',
    icon: IconChartHistogram,
  },
];

/** Administration, shown apart from the business modules. */
export const SETTINGS: ModuleInfo = {
  path: '/settings',
  label: 'Settings',
  summary: 'Organisation, users and roles',
  description: 'Your organisation, users, roles and permissions, API keys, webhooks and custom fields.',
  icon: IconSettings,
};

/** Every section that has its own route. */
export const SECTIONS: readonly ModuleInfo[] = [...MODULES, SETTINGS];
