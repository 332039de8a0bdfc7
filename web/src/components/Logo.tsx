import { Group, Text } from '@mantine/core';

/** The Meridian mark: a globe with its meridian drawn through it. */
export function LogoMark({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--mantine-primary-color-filled)" />
      <circle cx="16" cy="16" r="9" fill="none" stroke="#fff" strokeWidth="2.2" />
      <path
        d="M16 5.5c-3.6 3-5 6.5-5 10.5s1.4 7.5 5 10.5M16 5.5c3.6 3 5 6.5 5 10.5s-1.4 7.5-5 10.5"
        fill="none"
        stroke="#fff"
        strokeWidth="1.6"
        opacity=".85"
      />
      <path d="M16 5v22" stroke="#fff" strokeWidth="2.2" strokeLinecap="round" />
    </svg>
  );
}

export function Logo() {
  return (
    <Group gap={10} wrap="nowrap">
      <LogoMark />
      <Text component="span" fw={700} fz={19} lts={-0.3}>
        Meridian
      </Text>
    </Group>
  );
}
