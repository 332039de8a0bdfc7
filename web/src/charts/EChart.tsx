import { Box, type BoxProps } from '@mantine/core';
import { useEffect, useRef } from 'react';
import { type ChartOption, echarts } from './echarts';

export interface EChartProps extends Omit<BoxProps, 'h'> {
  option: ChartOption;
  /** Height in px; the width follows the container. */
  height?: number;
  /** `svg` is crisp and cheap for small charts; use `canvas` for large series and heat maps. */
  renderer?: 'svg' | 'canvas';
  /** Accessible name of the chart. */
  label: string;
  /** Replace the whole option instead of merging into the previous one. */
  notMerge?: boolean;
  /** Called once with the instance, for event handlers or imperative actions. */
  onInit?: (chart: echarts.ECharts) => void;
}

/**
 * A small typed React wrapper around an ECharts instance: created on mount, fed `option` on
 * every change, resized with its container, disposed on unmount.
 */
export function EChart({
  option,
  height = 240,
  renderer = 'svg',
  label,
  notMerge = false,
  onInit,
  ...boxProps
}: EChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const chartRef = useRef<echarts.ECharts | null>(null);
  const onInitRef = useRef(onInit);

  useEffect(() => {
    onInitRef.current = onInit;
  }, [onInit]);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // Explicit sizes keep ECharts happy where layout is not computed (jsdom, hidden tabs).
    const chart = echarts.init(el, undefined, {
      renderer,
      width: el.clientWidth || 300,
      height,
    });
    chartRef.current = chart;
    onInitRef.current?.(chart);
    let observer: ResizeObserver | undefined;
    if (typeof ResizeObserver !== 'undefined') {
      observer = new ResizeObserver(() => {
        chart.resize({ width: el.clientWidth || 'auto', height });
      });
      observer.observe(el);
    }
    return () => {
      observer?.disconnect();
      chart.dispose();
      chartRef.current = null;
    };
  }, [renderer, height]);

  useEffect(() => {
    chartRef.current?.setOption(option, { notMerge });
  }, [option, notMerge, renderer, height]);

  return (
    <Box role="img" aria-label={label} data-testid="echart" {...boxProps}>
      <div ref={ref} style={{ width: '100%', height }} />
    </Box>
  );
}
