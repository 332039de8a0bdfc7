/**
 * SLA countdowns: which deadline a ticket is racing, how long is left, and how to say it.
 * Pure functions of the ticket's `sla` block and "now", so they are tested without a clock.
 */

/** The parts of a ticket's `sla` block the countdown reads. */
export interface SlaClockInput {
  response_due_at?: string | null;
  resolution_due_at?: string | null;
  first_response_at?: string | null;
  resolved_at?: string | null;
  paused: boolean;
}

export type ClockTarget = 'response' | 'resolution';

export interface SlaClock {
  /** The deadline being counted down to, or null when there is none (resolved, paused before due). */
  target: ClockTarget | null;
  /** The deadline, as milliseconds since the epoch. */
  dueAt: number | null;
  /** Milliseconds left; negative once overdue; null without a deadline. */
  remainingMs: number | null;
  overdue: boolean;
  /** The clock is stopped (Waiting on Customer, Resolved, Closed). */
  paused: boolean;
  /** "1h 02m", "3d 4h", "overdue 12m 05s", "paused", "met". */
  text: string;
}

function time(value: string | null | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/**
 * A duration for a countdown, never negative: "45s", "12m 05s", "3h 07m", "2d 4h".
 * Seconds show below an hour, so the countdown visibly ticks when it matters.
 */
export function formatDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${pad(minutes)}m`;
  if (minutes > 0) return `${minutes}m ${pad(seconds)}s`;
  return `${seconds}s`;
}

/** A target in business minutes for people: 60 → "1h", 90 → "1h 30m", 2880 → "48h". */
export function formatTargetMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m}m`;
  return m === 0 ? `${h}h` : `${h}h ${m}m`;
}

/** Time left (or overdue) until one deadline; "met"/"paused" when it no longer runs. */
export function deadlineClock(
  dueAt: string | null | undefined,
  now: number,
  opts: { done?: boolean; paused?: boolean } = {},
): Pick<SlaClock, 'dueAt' | 'remainingMs' | 'overdue' | 'text'> {
  const due = time(dueAt);
  if (opts.done) return { dueAt: due, remainingMs: null, overdue: false, text: 'met' };
  if (due === null)
    return { dueAt: null, remainingMs: null, overdue: false, text: opts.paused ? 'paused' : '–' };
  const remainingMs = due - now;
  const overdue = remainingMs < 0;
  if (opts.paused) {
    return { dueAt: due, remainingMs, overdue, text: overdue ? 'paused (overdue)' : 'paused' };
  }
  return {
    dueAt: due,
    remainingMs,
    overdue,
    text: overdue ? `overdue ${formatDuration(remainingMs)}` : formatDuration(remainingMs),
  };
}

/**
 * The ticket's clock as the inbox shows it: the response deadline until the first agent
 * reply, then the resolution deadline; nothing once resolved. While paused the clock does
 * not run: the text says "paused" and does not count.
 */
export function slaClock(sla: SlaClockInput, now: number): SlaClock {
  const paused = sla.paused;
  if (sla.resolved_at) {
    return { target: null, dueAt: null, remainingMs: null, overdue: false, paused, text: 'resolved' };
  }
  const target: ClockTarget = sla.first_response_at ? 'resolution' : 'response';
  const dueAt = target === 'response' ? sla.response_due_at : sla.resolution_due_at;
  const clock = deadlineClock(dueAt, now, { paused });
  return { target: clock.dueAt === null && !paused ? null : target, paused, ...clock };
}

/** The first response against its deadline: met when it came before the due time. */
export function responseMet(sla: SlaClockInput): boolean | null {
  const first = time(sla.first_response_at);
  if (first === null) return null;
  const due = time(sla.response_due_at);
  return due === null ? true : first <= due;
}
