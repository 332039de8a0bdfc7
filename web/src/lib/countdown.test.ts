import { describe, expect, it } from 'vitest';
import { deadlineClock, formatDuration, formatTargetMinutes, responseMet, slaClock } from './countdown';

const NOW = Date.parse('2026-03-02T10:00:00Z');
const at = (iso: string) => iso;
const sla = (over: Partial<Parameters<typeof slaClock>[0]> = {}) => ({
  response_due_at: at('2026-03-02T11:00:00Z'),
  resolution_due_at: at('2026-03-02T14:00:00Z'),
  first_response_at: null,
  resolved_at: null,
  paused: false,
  ...over,
});

describe('formatDuration', () => {
  it('shows seconds under a minute, minutes and seconds under an hour', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(12 * 60_000 + 5_000)).toBe('12m 05s');
    expect(formatDuration(59 * 60_000 + 59_999)).toBe('59m 59s');
  });
  it('shows hours and minutes, then days and hours', () => {
    expect(formatDuration(3_600_000)).toBe('1h 00m');
    expect(formatDuration(3 * 3_600_000 + 7 * 60_000 + 30_000)).toBe('3h 07m');
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 59 * 60_000)).toBe('2d 4h');
  });
  it('is the magnitude for negative durations', () => {
    expect(formatDuration(-90_000)).toBe('1m 30s');
  });
});

describe('formatTargetMinutes', () => {
  it('says targets in hours and minutes', () => {
    expect(formatTargetMinutes(60)).toBe('1h');
    expect(formatTargetMinutes(90)).toBe('1h 30m');
    expect(formatTargetMinutes(45)).toBe('45m');
    expect(formatTargetMinutes(72 * 60)).toBe('72h');
  });
});

describe('slaClock', () => {
  it('counts down to the response deadline before the first reply', () => {
    const clock = slaClock(sla(), NOW);
    expect(clock.target).toBe('response');
    expect(clock.remainingMs).toBe(3_600_000);
    expect(clock.overdue).toBe(false);
    expect(clock.text).toBe('1h 00m');
  });

  it('ticks: one second later one second less', () => {
    expect(slaClock(sla(), NOW + 1000).text).toBe('59m 59s');
  });

  it('counts down to the resolution deadline after the first reply', () => {
    const clock = slaClock(sla({ first_response_at: at('2026-03-02T09:30:00Z') }), NOW);
    expect(clock.target).toBe('resolution');
    expect(clock.text).toBe('4h 00m');
  });

  it('says overdue, and by how much, past the deadline', () => {
    const clock = slaClock(sla(), Date.parse('2026-03-02T11:02:03Z'));
    expect(clock.overdue).toBe(true);
    expect(clock.remainingMs).toBe(-123_000);
    expect(clock.text).toBe('overdue 2m 03s');
  });

  it('does not count while paused (Waiting on Customer)', () => {
    const paused = sla({ paused: true });
    const a = slaClock(paused, NOW);
    const b = slaClock(paused, NOW + 60_000);
    expect(a.paused).toBe(true);
    expect(a.text).toBe('paused');
    expect(b.text).toBe(a.text);
  });

  it('is paused without a deadline when the server leaves the due time out while paused', () => {
    const clock = slaClock(sla({ paused: true, response_due_at: null }), NOW);
    expect(clock.text).toBe('paused');
    expect(clock.remainingMs).toBeNull();
    expect(clock.overdue).toBe(false);
  });

  it('says when a paused ticket was already overdue', () => {
    expect(slaClock(sla({ paused: true }), Date.parse('2026-03-02T12:00:00Z')).text).toBe('paused (overdue)');
  });

  it('stops once resolved', () => {
    const clock = slaClock(
      sla({
        resolved_at: at('2026-03-02T09:00:00Z'),
        first_response_at: at('2026-03-02T08:00:00Z'),
        paused: true,
      }),
      NOW,
    );
    expect(clock.target).toBeNull();
    expect(clock.text).toBe('resolved');
  });
});

describe('deadlineClock', () => {
  it('says met once the deadline no longer runs', () => {
    expect(deadlineClock('2026-03-02T11:00:00Z', NOW, { done: true }).text).toBe('met');
  });
  it('says – without a deadline', () => {
    expect(deadlineClock(null, NOW).text).toBe('–');
  });
});

describe('responseMet', () => {
  it('is unknown before the first reply, met before the due time, missed after', () => {
    expect(responseMet(sla())).toBeNull();
    expect(responseMet(sla({ first_response_at: at('2026-03-02T10:59:59Z') }))).toBe(true);
    expect(responseMet(sla({ first_response_at: at('2026-03-02T11:00:01Z') }))).toBe(false);
  });
});
