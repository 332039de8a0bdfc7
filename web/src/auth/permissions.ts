/**
 * Permissions are `resource:action`. A grant of `*` allows everything, `resource:*` every
 * action on that resource. The same rules as the server's `PermissionSet::allows`; the UI
 * uses them only to hide what would be refused anyway; the server decides.
 */
export function allows(granted: readonly string[], permission: string): boolean {
  const [resource] = permission.split(':', 1);
  return granted.some((g) => g === '*' || g === permission || g === `${resource}:*`);
}

/**
 * The server's permission catalogue (crates/identity/src/permissions.rs): custom roles and
 * API keys may only use these names. Kept in step by hand until the API publishes it.
 */
export const RESOURCES = [
  'org',
  'users',
  'roles',
  'api_keys',
  'audit',
  'pii',
  'companies',
  'contacts',
  'leads',
  'deals',
  'pipelines',
  'activities',
  'tickets',
  'kb',
  'sla',
  'stores',
  'products',
  'orders',
  'invoices',
  'payments',
  'sales',
  'items',
  'stock',
  'purchase_orders',
  'vendors',
  'equipment',
  'work_orders',
  'sensors',
  'analytics',
  'automations',
] as const;

export const ACTIONS = ['read', 'create', 'update', 'delete', 'manage', 'import', 'export'] as const;

/** "purchase_orders" → "Purchase orders", "api_keys" → "API keys", "kb" → "Knowledge base". */
export function resourceLabel(resource: string): string {
  const special: Record<string, string> = {
    api_keys: 'API keys',
    kb: 'Knowledge base',
    sla: 'SLA',
    pii: 'Personal data (PII)',
    org: 'Organisation',
  };
  const label = special[resource] ?? resource.replaceAll('_', ' ');
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** Groups permission names by resource, in catalogue order (unknown resources last). */
export function groupByResource(permissions: readonly string[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const p of permissions) {
    const [resource = p, action = ''] = p.split(':', 2);
    const list = groups.get(resource) ?? [];
    list.push(action);
    groups.set(resource, list);
  }
  const order = (r: string) => {
    const i = (RESOURCES as readonly string[]).indexOf(r);
    return i === -1 ? RESOURCES.length : i;
  };
  return [...groups.entries()].sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b));
}
