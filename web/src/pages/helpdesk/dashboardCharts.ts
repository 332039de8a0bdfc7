/** Chart options of the helpdesk dashboard, built from the analytics answer (pure, tested). */
import type { ChartOption } from '../../charts/echarts';
import type { HelpdeskAnalytics, HoursStats } from '../../api/helpdesk';

const GRID = { left: 48, right: 16, top: 36, bottom: 32 };

export function volumeOption(volume: HelpdeskAnalytics['volume']): ChartOption {
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: GRID,
    xAxis: { type: 'category', data: volume.map((v) => v.date) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { type: 'line', name: 'Created', data: volume.map((v) => v.created), smooth: true },
      { type: 'line', name: 'Resolved', data: volume.map((v) => v.resolved), smooth: true },
    ],
  };
}

const round1 = (n: number | null | undefined) =>
  n === null || n === undefined ? null : Math.round(n * 10) / 10;

export function timesOption(first: HoursStats, resolution: HoursStats): ChartOption {
  const stats = ['mean', 'median', 'p90'] as const;
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis', valueFormatter: (v) => `${String(v)} h` },
    legend: { top: 0 },
    grid: GRID,
    xAxis: { type: 'category', data: ['Mean', 'Median', 'P90'] },
    yAxis: { type: 'value', name: 'hours' },
    series: [
      { type: 'bar', name: 'First response', data: stats.map((s) => round1(first[s])) },
      { type: 'bar', name: 'Resolution', data: stats.map((s) => round1(resolution[s])) },
    ],
  };
}

export function backlogOption(backlog: HelpdeskAnalytics['backlog_by_age']): ChartOption {
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    grid: GRID,
    xAxis: { type: 'category', data: backlog.map((b) => b.bucket) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', name: 'Open tickets', data: backlog.map((b) => b.count), color: '#f08c00' }],
  };
}

/** The CSAT distribution, always with the five ratings in order (missing ones are 0). */
export function csatOption(distribution: Record<string, number>): ChartOption {
  const ratings = ['1', '2', '3', '4', '5'];
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    grid: GRID,
    xAxis: { type: 'category', data: ratings.map((r) => `${r}★`) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { type: 'bar', name: 'Ratings', data: ratings.map((r) => distribution[r] ?? 0), color: '#fab005' },
    ],
  };
}

export function complianceOption(byPriority: HelpdeskAnalytics['by_priority']): ChartOption {
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: GRID,
    xAxis: { type: 'category', data: byPriority.map((p) => p.priority) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { type: 'bar', name: 'Open', data: byPriority.map((p) => p.open), color: '#228be6' },
      { type: 'bar', name: 'Breached', data: byPriority.map((p) => p.breached), color: '#fa5252' },
    ],
  };
}

/**
 * Customers by average mood, worst first (at most `limit`), bars coloured by sign; the server
 * lists customers without a scored message (`avg_compound: null`) last, and so do we, as an
 * empty bar.
 */
export function sentimentOption(
  rows: HelpdeskAnalytics['sentiment_by_customer'],
  nameOf: (companyId: string) => string,
  limit = 12,
): ChartOption {
  const key = (v: number | null | undefined) => v ?? Number.POSITIVE_INFINITY;
  const worst = [...rows].sort((a, b) => key(a.avg_compound) - key(b.avg_compound)).slice(0, limit);
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    grid: { left: 140, right: 24, top: 16, bottom: 32 },
    xAxis: { type: 'value', min: -1, max: 1 },
    yAxis: { type: 'category', data: worst.map((r) => nameOf(r.company_id)), inverse: true },
    series: [
      {
        type: 'bar',
        name: 'Average compound',
        data: worst.map((r) => {
          const v = r.avg_compound ?? null;
          return {
            value: v === null ? null : Math.round(v * 100) / 100,
            itemStyle: {
              color: v === null ? '#adb5bd' : v <= -0.05 ? '#fa5252' : v >= 0.05 ? '#12b886' : '#adb5bd',
            },
          };
        }),
      },
    ],
  };
}

/** "87.5%", or "–" without data. */
export function pct(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return `${Math.round(value * 10) / 10}%`;
}

/** "3.2 h", "15 min" under an hour, or "–" without data. */
export function hoursText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (value < 1) return `${Math.round(value * 60)} min`;
  return `${Math.round(value * 10) / 10} h`;
}
