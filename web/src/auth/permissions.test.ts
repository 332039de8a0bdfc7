import { describe, expect, it } from 'vitest';
import { allows, groupByResource, resourceLabel } from './permissions';

describe('permissions', () => {
  it('grants exact names', () => {
    expect(allows(['users:read'], 'users:read')).toBe(true);
    expect(allows(['users:read'], 'users:manage')).toBe(false);
    expect(allows([], 'users:read')).toBe(false);
  });

  it('treats * as everything', () => {
    expect(allows(['*'], 'users:manage')).toBe(true);
    expect(allows(['*'], 'anything:at_all')).toBe(true);
  });

  it('treats resource:* as every action on that resource only', () => {
    expect(allows(['deals:*'], 'deals:update')).toBe(true);
    expect(allows(['deals:*'], 'deals:delete')).toBe(true);
    expect(allows(['deals:*'], 'contacts:read')).toBe(false);
    // a prefix is not a resource
    expect(allows(['deal:*'], 'deals:read')).toBe(false);
    expect(allows(['deals:read'], 'deals:*')).toBe(false);
    expect(allows(['deals:*'], 'deals:*')).toBe(true);
  });

  it('groups permissions by resource in catalogue order', () => {
    expect(groupByResource(['deals:read', 'users:read', 'deals:update', 'zzz:read'])).toEqual([
      ['users', ['read']],
      ['deals', ['read', 'update']],
      ['zzz', ['read']],
    ]);
  });

  it('labels resources for people', () => {
    expect(resourceLabel('purchase_orders')).toBe('Purchase orders');
    expect(resourceLabel('api_keys')).toBe('API keys');
  });
});
