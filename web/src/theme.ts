import { type CSSVariablesResolver, createTheme, type MantineColorsTuple } from '@mantine/core';

/** Meridian blue: calm, legible on white and on dark surfaces. */
const meridian: MantineColorsTuple = [
  '#e8f3fc',
  '#d3e4f4',
  '#a6c7e7',
  '#75a8da',
  '#4d8ecf',
  '#347dc9',
  '#2574c7',
  '#1663b0',
  '#08589e',
  '#004c8c',
];

export const theme = createTheme({
  primaryColor: 'meridian',
  primaryShade: { light: 7, dark: 5 },
  colors: { meridian },
  fontFamily:
    "'Inter Variable', Inter, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  fontFamilyMonospace:
    "ui-monospace, SFMono-Regular, 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace",
  headings: {
    fontFamily: "'Inter Variable', Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    fontWeight: '650',
  },
  defaultRadius: 'md',
  cursorType: 'pointer',
  components: {
    Card: { defaultProps: { withBorder: true, radius: 'md', padding: 'lg' } },
    Paper: { defaultProps: { radius: 'md' } },
    // Mantine's close button is an icon only: give it a name screen readers can announce.
    Modal: { defaultProps: { closeButtonProps: { 'aria-label': 'Close' } } },
  },
});

/** Surfaces: a faintly tinted page behind white cards, like most calm business tools. */
export const cssVariablesResolver: CSSVariablesResolver = (t) => ({
  variables: {},
  light: {
    '--meridian-page-bg': t.colors.gray[0],
    '--meridian-nav-bg': t.white,
  },
  dark: {
    '--meridian-page-bg': t.colors.dark[8],
    '--meridian-nav-bg': t.colors.dark[7],
  },
});
