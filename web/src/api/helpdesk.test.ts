import { describe, expect, it } from 'vitest';
import { ApiError } from './client';
import {
  cleanTags,
  formatBytes,
  ifMatch,
  NEXT_STATUSES,
  sentimentLabel,
  STATUSES,
  transitionLabel,
  trendLabel,
  uploadProblem,
} from './helpdesk';

const problem = (status: number, extra: Record<string, unknown> = {}) =>
  new ApiError({ type: 'about:blank', code: 'x', title: `HTTP ${status}`, status, ...extra });

describe('helpdesk helpers', () => {
  it('offers only the allowed status transitions, none from Closed', () => {
    expect(NEXT_STATUSES.Open).toEqual(['In Progress', 'Waiting on Customer', 'Resolved']);
    expect(NEXT_STATUSES.Resolved).toEqual(['Closed', 'Open']);
    expect(NEXT_STATUSES.Closed).toEqual([]);
    for (const from of STATUSES) expect(NEXT_STATUSES[from]).not.toContain(from);
    expect(transitionLabel('Resolved', 'Open')).toBe('Reopen');
    expect(transitionLabel('Open', 'In Progress')).toBe('Start work');
    expect(transitionLabel('Waiting on Customer', 'In Progress')).toBe('Resume work');
  });

  it('labels sentiment and its trend with VADER thresholds', () => {
    expect(sentimentLabel(0.05)).toBe('positive');
    expect(sentimentLabel(0)).toBe('neutral');
    expect(sentimentLabel(-0.3)).toBe('negative');
    expect(trendLabel(null)).toBeNull();
    expect(trendLabel(-0.4)).toBe('worsening');
    expect(trendLabel(0.01)).toBe('steady');
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
  });

  it('cleans tags as the server keeps them, and quotes If-Match', () => {
    expect(cleanTags([' Login ', 'login', '', 'VPN'])).toEqual(['login', 'vpn']);
    expect(ifMatch(3)).toEqual({ 'if-match': '"3"' });
  });

  it('says why an upload was refused', () => {
    expect(uploadProblem(problem(415, { errors: [{ field: 'Content-Type', message: 'not allowed' }] }))).toBe(
      'Content-Type: not allowed',
    );
    expect(uploadProblem(problem(413, { detail: 'file: too large' }))).toBe('file: too large');
  });
});
