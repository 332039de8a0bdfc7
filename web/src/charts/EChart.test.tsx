import { MantineProvider } from '@mantine/core';
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { theme } from '../theme';
import { EChart } from './EChart';
import type { ChartOption, echarts } from './echarts';

function lineOption(values: number[]): ChartOption {
  return {
    animation: false,
    xAxis: { type: 'category', data: values.map((_, i) => `t${i}`) },
    yAxis: { type: 'value' },
    series: [{ type: 'line', name: 'latency', data: values }],
  };
}

function renderChart(option: ChartOption, onInit?: (c: echarts.ECharts) => void) {
  const props = { option, label: 'Latency chart', height: 200, ...(onInit ? { onInit } : {}) };
  const view = render(
    <MantineProvider theme={theme}>
      <EChart {...props} />
    </MantineProvider>,
  );
  const rerender = (next: ChartOption) => {
    view.rerender(
      <MantineProvider theme={theme}>
        <EChart {...props} option={next} />
      </MantineProvider>,
    );
  };
  return { ...view, rerender };
}

describe('EChart', () => {
  it('mounts an SVG chart with an accessible name', () => {
    renderChart(lineOption([3, 5, 4]));
    const chart = screen.getByRole('img', { name: 'Latency chart' });
    expect(chart.firstElementChild).toHaveStyle({ height: '200px' });
    expect(chart.querySelector('svg')).not.toBeNull();
    // the line series is drawn as a path
    expect(chart.querySelectorAll('path').length).toBeGreaterThan(0);
  });

  it('feeds new options to the same instance and disposes it on unmount', () => {
    let instance: echarts.ECharts | undefined;
    const { rerender, unmount } = renderChart(lineOption([1, 2]), (c) => (instance = c));
    expect(instance).toBeDefined();
    const chart = instance!;
    const seriesData = () => {
      const series = (chart.getOption() as { series: { data: number[] }[] }).series;
      return series[0]?.data;
    };
    expect(seriesData()).toEqual([1, 2]);

    rerender(lineOption([1, 2, 9]));
    expect(seriesData()).toEqual([1, 2, 9]);
    expect(chart.isDisposed()).toBeFalsy();

    unmount();
    expect(chart.isDisposed()).toBe(true);
  });
});
