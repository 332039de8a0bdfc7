import { describe, expect, it } from 'vitest';
import { growthOption, heatmapOption, monthLabel, shareTrendOption } from './charts';

describe('sales charts', () => {
  it('places each gap cell at its region and pack type, coloured by zero share, HIGH cells marked', () => {
    const option = heatmapOption({
      period: { from: '2026-11-01', to: '2026-11-30', default: true },
      rows: 'region',
      columns: 'pack_type',
      row_labels: ['Central', 'Coast'],
      column_labels: ['1L PET', '330ml can'],
      cells: [
        {
          row: 'Coast',
          column: '1L PET',
          total_records: 4,
          zero_records: 3,
          zero_share: 0.75,
          urgency: 'HIGH',
        },
        {
          row: 'Central',
          column: '330ml can',
          total_records: 8,
          zero_records: 4,
          zero_share: 0.5,
          urgency: 'MEDIUM',
        },
      ],
    });
    const series = (
      option.series as {
        data: { value: number[]; label: { formatter: string }; itemStyle: { borderWidth: number } }[];
      }[]
    )[0];
    expect(series?.data.map((d) => d.value)).toEqual([
      [0, 1, 75],
      [1, 0, 50],
    ]);
    expect(series?.data.map((d) => d.label.formatter)).toEqual(['75% !', '50%']);
    expect(series?.data.map((d) => d.itemStyle.borderWidth)).toEqual([2, 1]);
  });

  it('labels months and shows growth as signed percentages, with gaps where there is no base', () => {
    expect(monthLabel('2026-03')).toBe('Mar 2026');
    const option = growthOption(
      {
        by: 'region',
        measure: 'value',
        months: ['2026-01', '2026-02', '2026-03'],
        series: [],
        total: {
          key: 'total',
          values: [1, 2, 1],
          mom_growth: [null, 1, -0.5],
          yoy_growth: [null, null, null],
        },
        movers: { top: [], bottom: [] },
        seasonality: [],
      },
      'mom_growth',
    );
    const data = (option.series as { data: ({ value: number } | null)[] }[])[0]?.data;
    expect(data?.map((d) => d?.value ?? null)).toEqual([null, 100, -50]);
  });
});

describe('market share chart', () => {
  it('draws a line of share percentages per key, gaps where there is no market total, eroding keys named', () => {
    const option = shareTrendOption({
      by: 'pack_type',
      months: ['2026-10', '2026-11'],
      series: [
        {
          key: '1L PET',
          ourValue: ['0', '150'],
          marketValue: [null, '1000'],
          share: [null, 0.15],
          change: null,
          change3m: null,
          eroding: false,
        },
        {
          key: '330ml can',
          ourValue: ['300', '250'],
          marketValue: ['1000', '1000'],
          share: [0.3, 0.25],
          change: -0.05,
          change3m: -0.05,
          eroding: true,
        },
      ],
    });
    const series = option.series as { name: string; data: (number | null)[] }[];
    expect(series.map((s) => s.name)).toEqual(['1L PET', '330ml can (eroding)']);
    expect(series[0]?.data).toEqual([null, 15]);
    expect(series[1]?.data).toEqual([30, 25]);
    expect((option.xAxis as { data: string[] }).data).toEqual(['Oct 2026', 'Nov 2026']);
  });
});
