export const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A latency for people: "< 1 ms", "3.4 ms", "120 ms". */
export function formatLatency(ms: number): string {
  if (ms < 1) return '< 1 ms';
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const hi = sorted[mid] ?? 0;
  return sorted.length % 2 ? hi : ((sorted[mid - 1] ?? hi) + hi) / 2;
}

export const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeStyle: 'medium',
});

/** A server timestamp (RFC 3339) for people; '–' when absent. */
export function formatDate(value: string | null | undefined, withTime = false): string {
  if (!value) return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return (withTime ? dateTimeFormat : dateFormat).format(date);
}

/** A local date as a date input's value ("YYYY-MM-DD"). */
export function isoDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function localDate(value: string, h: number, m: number, s: number): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const [y = 0, mo = 1, d = 1] = value.split('-').map(Number);
  const date = new Date(y, mo - 1, d, h, m, s);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A date input's "YYYY-MM-DD" as the start of that day in the user's time zone, in RFC 3339. */
export function startOfDay(value: string): string | null {
  return localDate(value, 0, 0, 0);
}

/** A date input's "YYYY-MM-DD" as the end of that day in the user's time zone, in RFC 3339. */
export function endOfDay(value: string): string | null {
  return localDate(value, 23, 59, 59);
}
