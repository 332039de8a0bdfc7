import { describe, expect, it } from 'vitest';
import { formatSpans, isIsoDate, parseSpans, weeklyHoursTotal } from './hours';

describe('working hours text', () => {
  it('round-trips spans', () => {
    const spans = [
      { start: '09:00', end: '12:00' },
      { start: '13:00', end: '17:30' },
    ];
    expect(formatSpans(spans)).toBe('09:00-12:00, 13:00-17:30');
    expect(parseSpans(formatSpans(spans))).toEqual({ spans });
  });

  it('treats empty as closed and accepts single-digit hours and the whole day', () => {
    expect(parseSpans('  ')).toEqual({ spans: [] });
    expect(parseSpans('9:00-17:00')).toEqual({ spans: [{ start: '09:00', end: '17:00' }] });
    expect(parseSpans('00:00-24:00')).toEqual({ spans: [{ start: '00:00', end: '24:00' }] });
  });

  it('sorts spans and refuses overlaps, reversed and malformed spans', () => {
    expect(parseSpans('13:00-17:00, 08:00-12:00').spans?.[0]).toEqual({ start: '08:00', end: '12:00' });
    expect(parseSpans('09:00-12:00, 11:00-14:00').error).toMatch(/overlap/);
    expect(parseSpans('17:00-09:00').error).toMatch(/after the start/);
    expect(parseSpans('25:00-26:00').error).toMatch(/invalid time/);
    expect(parseSpans('nine to five').error).toMatch(/not like/);
  });

  it('totals a week', () => {
    const day = [{ start: '09:00', end: '17:00' }];
    expect(weeklyHoursTotal({ mon: day, tue: day, wed: day, thu: day, fri: day })).toBe(40);
  });

  it('checks holidays are real dates', () => {
    expect(isIsoDate('2026-12-25')).toBe(true);
    expect(isIsoDate('2026-02-30')).toBe(false);
    expect(isIsoDate('25/12/2026')).toBe(false);
  });
});
