import { Badge } from '@mantine/core';
import type { ReadinessState } from '../api/system';

const LOOK: Record<ReadinessState | 'checking', { color: string; label: string }> = {
  ready: { color: 'teal', label: 'Ready' },
  not_ready: { color: 'red', label: 'Not ready' },
  unreachable: { color: 'orange', label: 'Unreachable' },
  checking: { color: 'gray', label: 'Checking…' },
};

export function ReadinessBadge({ state, label }: { state: ReadinessState | 'checking'; label?: string }) {
  const look = LOOK[state];
  return (
    <Badge
      color={look.color}
      variant="light"
      radius="sm"
      leftSection={
        <span
          style={{ display: 'block', width: 6, height: 6, borderRadius: 3, background: 'currentColor' }}
        />
      }
      data-testid="readiness-badge"
    >
      {label ?? look.label}
    </Badge>
  );
}
