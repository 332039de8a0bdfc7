import { describe, expect, it } from 'vitest';
import { csatOption, hoursText, pct, sentimentOption } from './dashboardCharts';

describe('dashboard charts', () => {
  it('always shows the five CSAT ratings in order', () => {
    const option = csatOption({ '5': 3, '2': 1 });
    expect((option.series as { data: number[] }[])[0]?.data).toEqual([0, 1, 0, 0, 3]);
  });

  it('lists customers worst mood first, named', () => {
    const option = sentimentOption(
      [
        { company_id: 'a', tickets: 2, avg_compound: 0.4, latest_label: 'positive' },
        { company_id: 'b', tickets: 5, avg_compound: -0.7, latest_label: 'negative' },
        { company_id: 'c', tickets: 1, avg_compound: null, latest_label: null },
        { company_id: 'd', tickets: 1, avg_compound: 0, latest_label: 'neutral' },
      ],
      (id) => `Company ${id}`,
    );
    // unscored customers (null) come last, as the server lists them
    expect((option.yAxis as { data: string[] }).data).toEqual([
      'Company b',
      'Company d',
      'Company a',
      'Company c',
    ]);
  });

  it('formats KPIs, with – for no data', () => {
    expect(pct(87.54)).toBe('87.5%');
    expect(pct(null)).toBe('–');
    expect(hoursText(3.21)).toBe('3.2 h');
    expect(hoursText(0.25)).toBe('15 min');
    expect(hoursText(undefined)).toBe('–');
  });
});
