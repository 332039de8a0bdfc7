import {
  IconClockHour4,
  IconForms,
  IconHistory,
  IconKey,
  IconShieldCheck,
  IconUsers,
  IconUsersGroup,
  type Icon,
} from '@tabler/icons-react';
import { CUSTOM_FIELDS_PERMISSIONS } from '../../api/customFields';

/** A page under Settings, and the permission that lets one see it. */
export interface SettingsTab {
  path: string;
  label: string;
  /** The permission, or several of which any one will do. */
  permission: string | readonly string[];
  icon: Icon;
}

/** Whether `can` allows the permission, or any one of several. */
export function canAny(
  can: (permission: string) => boolean,
  permission: string | readonly string[],
): boolean {
  return typeof permission === 'string' ? can(permission) : permission.some(can);
}

export const SETTINGS_TABS: readonly SettingsTab[] = [
  { path: 'users', label: 'Users', permission: 'users:read', icon: IconUsers },
  { path: 'roles', label: 'Roles', permission: 'roles:read', icon: IconShieldCheck },
  { path: 'api-keys', label: 'API keys', permission: 'api_keys:manage', icon: IconKey },
  { path: 'audit', label: 'Audit log', permission: 'audit:read', icon: IconHistory },
  { path: 'custom-fields', label: 'Custom fields', permission: CUSTOM_FIELDS_PERMISSIONS, icon: IconForms },
  { path: 'sla', label: 'SLA & hours', permission: 'sla:read', icon: IconClockHour4 },
  { path: 'teams', label: 'Teams', permission: 'tickets:manage', icon: IconUsersGroup },
];
