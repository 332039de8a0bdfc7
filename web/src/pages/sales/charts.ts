import type { GapHeatmap, MarketShare, Trends } from '../../api/sales';
import type { ChartOption } from '../../charts/echarts';

/** Zero share (0..1) of a gap cell as the heat map colours it: green (stocked) → red (missing). */
export const GAP_COLOURS = ['#2f9e44', '#fab005', '#f76707', '#e03131'];

/**
 * The distribution-gap heat map: rows (regions) × columns (pack types), each cell coloured by
 * its zero share; HIGH-urgency cells carry a marker ("!") and a thick border so they can be
 * found without reading colours.
 */
export function heatmapOption(map: GapHeatmap): ChartOption {
  const x = map.column_labels;
  const y = map.row_labels;
  const data = map.cells.map((c) => ({
    value: [x.indexOf(c.column), y.indexOf(c.row), Math.round(c.zero_share * 1000) / 10] as [
      number,
      number,
      number,
    ],
    label: {
      show: true,
      formatter: `${(c.zero_share * 100).toFixed(0)}%${c.urgency === 'HIGH' ? ' !' : ''}`,
    },
    itemStyle:
      c.urgency === 'HIGH'
        ? { borderColor: '#000', borderWidth: 2 }
        : { borderColor: '#fff', borderWidth: 1 },
    urgency: c.urgency,
    records: `${String(c.zero_records)} of ${String(c.total_records)} records without sales`,
  }));
  return {
    aria: { enabled: true },
    tooltip: {
      formatter: (p: unknown) => {
        const point = p as { data: (typeof data)[number] };
        const [cx, cy, share] = point.data.value;
        return `${y[cy] ?? ''} · ${x[cx] ?? ''}<br/>${String(share)}% zero sales (${point.data.records})${
          point.data.urgency ? `<br/>urgency ${point.data.urgency}` : ''
        }`;
      },
    },
    grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
    xAxis: {
      type: 'category',
      data: x,
      splitArea: { show: true },
      axisLabel: { interval: 0, rotate: x.length > 6 ? 30 : 0 },
    },
    yAxis: { type: 'category', data: y, splitArea: { show: true } },
    visualMap: {
      min: 0,
      max: 100,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      text: ['100% zero', '0%'],
      inRange: { color: GAP_COLOURS },
    },
    series: [{ type: 'heatmap', name: 'Zero-sales share', data, emphasis: { itemStyle: { shadowBlur: 6 } } }],
  };
}

/** A month label "2024-03" as people read it ("Mar 2024"). */
export function monthLabel(month: string): string {
  const [y, m] = month.split('-').map(Number);
  if (!y || !m) return month;
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en-GB', {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

/** The total's line over the months, with MoM and YoY growth in the tooltip. */
export function totalTrendOption(trends: Trends): ChartOption {
  const months = trends.months.map(monthLabel);
  const pct = (v: number | null | undefined) =>
    v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`;
  return {
    aria: { enabled: true },
    tooltip: {
      trigger: 'axis',
      formatter: (params: unknown) => {
        const list = params as { dataIndex: number; value: number }[];
        const i = list[0]?.dataIndex ?? 0;
        return `${months[i] ?? ''}<br/>${(trends.total.values[i] ?? 0).toLocaleString()}<br/>MoM ${pct(
          trends.total.mom_growth[i],
        )} · YoY ${pct(trends.total.yoy_growth[i])}`;
      },
    },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: months, boundaryGap: false },
    yAxis: { type: 'value' },
    series: [
      {
        type: 'line',
        name: trends.measure === 'qty' ? 'Quantity' : 'Sales value',
        data: trends.total.values,
        smooth: true,
        areaStyle: { opacity: 0.12 },
        showSymbol: trends.months.length < 30,
      },
    ],
  };
}

/** One line per key (the largest `limit` by their latest value), for the trends page. */
export function seriesTrendOption(trends: Trends, limit = 8): ChartOption {
  const months = trends.months.map(monthLabel);
  const last = trends.months.length - 1;
  const top = [...trends.series]
    .sort((a, b) => (b.values[last] ?? 0) - (a.values[last] ?? 0))
    .slice(0, limit);
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: months, boundaryGap: false },
    yAxis: { type: 'value' },
    series: top.map((s) => ({ type: 'line' as const, name: s.key, data: s.values, showSymbol: false })),
  };
}

/** Month-over-month growth of the total as bars (green up, red down). */
export function growthOption(trends: Trends, which: 'mom_growth' | 'yoy_growth'): ChartOption {
  const months = trends.months.map(monthLabel);
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis', valueFormatter: (v) => (typeof v === 'number' ? `${v.toFixed(1)}%` : '–') },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: months },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: [
      {
        type: 'bar',
        name: which === 'mom_growth' ? 'MoM' : 'YoY',
        data: trends.total[which].map((v) =>
          v === null
            ? null
            : { value: Math.round(v * 1000) / 10, itemStyle: { color: v >= 0 ? '#2f9e44' : '#e03131' } },
        ),
      },
    ],
  };
}

/** The seasonality index per month of the year (1 = an average month). */
export function seasonalityOption(trends: Trends): ChartOption {
  const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const sorted = [...trends.seasonality].sort((a, b) => a.month_of_year - b.month_of_year);
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: sorted.map((s) => names[s.month_of_year - 1] ?? String(s.month_of_year)),
    },
    yAxis: { type: 'value', min: 0 },
    series: [
      {
        type: 'bar',
        name: 'Seasonality index',
        data: sorted.map((s) =>
          s.index === null || s.index === undefined ? null : Math.round(s.index * 100) / 100,
        ),
      },
    ],
  };
}

/** A share 0..1 as percent with one decimal, for charts (null stays a gap in the line). */
const sharePct = (v: number | null | undefined) =>
  v === null || v === undefined ? null : Math.round(v * 1000) / 10;

/**
 * Our market share per month, one line per region (or pack type); a month without a market
 * total is a gap. Eroding keys (the server's flag) are drawn thicker and named so in the legend.
 */
export function shareTrendOption(share: MarketShare): ChartOption {
  const months = share.months.map(monthLabel);
  return {
    aria: { enabled: true },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v) => (typeof v === 'number' ? `${v.toFixed(1)}%` : '–'),
    },
    legend: { type: 'scroll', top: 0 },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: months, boundaryGap: false },
    yAxis: { type: 'value', min: 0, axisLabel: { formatter: '{value}%' } },
    series: share.series.map((s) => ({
      type: 'line' as const,
      name: s.eroding ? `${s.key} (eroding)` : s.key,
      data: s.share.map(sharePct),
      connectNulls: false,
      showSymbol: share.months.length < 30,
      lineStyle: { width: s.eroding ? 3 : 2 },
    })),
  };
}
