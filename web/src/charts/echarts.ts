/**
 * The one place ECharts modules are registered. Import charts and components from
 * `echarts/core` subpaths only, so the bundle holds just what we use; a module that needs
 * another series type (heatmap, candlestick, ...) adds it here and to `ChartOption`.
 */
import {
  BarChart,
  type BarSeriesOption,
  HeatmapChart,
  type HeatmapSeriesOption,
  LineChart,
  type LineSeriesOption,
} from 'echarts/charts';
import {
  AriaComponent,
  type AriaComponentOption,
  DatasetComponent,
  type DatasetComponentOption,
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  MarkAreaComponent,
  type MarkAreaComponentOption,
  TooltipComponent,
  type TooltipComponentOption,
  VisualMapComponent,
  type VisualMapComponentOption,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

echarts.use([
  LineChart,
  BarChart,
  HeatmapChart,
  LegendComponent,
  AriaComponent,
  DatasetComponent,
  GridComponent,
  MarkAreaComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
  SVGRenderer,
]);

/** Options for the series and components registered above, fully typed. */
export type ChartOption = echarts.ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | HeatmapSeriesOption
  | LegendComponentOption
  | AriaComponentOption
  | DatasetComponentOption
  | GridComponentOption
  | MarkAreaComponentOption
  | TooltipComponentOption
  | VisualMapComponentOption
>;

export { echarts };
