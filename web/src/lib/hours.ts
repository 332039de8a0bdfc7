/** Working hours as people type them: "09:00-12:00, 13:00-17:30" (empty: closed). */

export interface Span {
  start: string;
  end: string;
}

export const WEEKDAYS = [
  { key: 'mon', label: 'Monday' },
  { key: 'tue', label: 'Tuesday' },
  { key: 'wed', label: 'Wednesday' },
  { key: 'thu', label: 'Thursday' },
  { key: 'fri', label: 'Friday' },
  { key: 'sat', label: 'Saturday' },
  { key: 'sun', label: 'Sunday' },
] as const;

export type Weekday = (typeof WEEKDAYS)[number]['key'];

export function formatSpans(spans: readonly Span[] | undefined): string {
  return (spans ?? []).map((s) => `${s.start}-${s.end}`).join(', ');
}

const TIME = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

function minutes(t: string): number {
  const [h = 0, m = 0] = t.split(':').map(Number);
  return h * 60 + m;
}

/**
 * Parses "09:00-12:00, 13:00-17:00" into spans; `error` says what is wrong (bad time, end
 * not after start, overlapping spans). Single-digit hours ("9:00") are accepted.
 */
export function parseSpans(
  text: string,
): { spans: Span[]; error?: undefined } | { spans?: undefined; error: string } {
  const parts = text
    .split(/[,;]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const spans: Span[] = [];
  for (const part of parts) {
    const match = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$/.exec(part);
    if (!match) return { error: `"${part}" is not like 09:00-17:00` };
    const [start, end] = [match[1] ?? '', match[2] ?? ''].map((t) => t.padStart(5, '0'));
    if (!start || !end || !TIME.test(start) || !TIME.test(end))
      return { error: `"${part}" has an invalid time` };
    if (minutes(end) <= minutes(start)) return { error: `"${part}": the end must be after the start` };
    spans.push({ start, end });
  }
  spans.sort((a, b) => minutes(a.start) - minutes(b.start));
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1];
    const cur = spans[i];
    if (prev && cur && minutes(cur.start) < minutes(prev.end)) {
      return { error: `${prev.start}-${prev.end} and ${cur.start}-${cur.end} overlap` };
    }
  }
  return { spans };
}

/** Business hours per week of a weekly schedule, for a summary line. */
export function weeklyHoursTotal(week: Partial<Record<Weekday, readonly Span[]>>): number {
  let total = 0;
  for (const { key } of WEEKDAYS) {
    for (const s of week[key] ?? []) total += minutes(s.end) - minutes(s.start);
  }
  return total / 60;
}

/** A holiday as typed: "YYYY-MM-DD" and a real date. */
export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}
