import type { VmaKind } from '../../../electron/contract/index.js';

export type Theme = 'dark' | 'light';

// Chart colours live here rather than in CSS: recharts draws SVG presentation attributes, which do not
// resolve CSS variables. The same hues as the CSS --node-N variables, tuned per theme for contrast.
const NODE_COLORS: Record<Theme, readonly string[]> = {
  dark: ['#5aa9ff', '#5fd38d', '#ffb454', '#ff7a90', '#c792ea', '#4dd0e1', '#e6d56a', '#a1887f'],
  light: ['#1f6fd1', '#1e9b57', '#c77800', '#d2344f', '#8e44ad', '#00838f', '#9e8a00', '#6d4c41'],
};

/** Colour of a node by its position in the node list (ids can be sparse: 0, 2, 4). */
export function nodeColor(theme: Theme, nodeIndex: number): string {
  const colors = NODE_COLORS[theme];
  return colors[nodeIndex % colors.length] ?? '#888888';
}

const KIND_COLORS: Record<VmaKind, string> = {
  heap: '#e57373',
  stack: '#ba68c8',
  anon: '#64b5f6',
  file: '#81c784',
  'deleted-file': '#a1887f',
  shm: '#ffb74d',
  hugetlb: '#4db6ac',
  vdso: '#90a4ae',
  vvar: '#90a4ae',
  vsyscall: '#90a4ae',
  'other-special': '#b0bec5',
};

export function kindColor(kind: VmaKind): string {
  return KIND_COLORS[kind];
}

export interface ChartTheme {
  grid: string;
  axis: string;
  text: string;
  tooltipBg: string;
  tooltipBorder: string;
}

export function chartTheme(theme: Theme): ChartTheme {
  return theme === 'dark'
    ? { grid: '#2a3140', axis: '#5c6679', text: '#aeb6c5', tooltipBg: '#1b2029', tooltipBorder: '#394153' }
    : { grid: '#e3e6eb', axis: '#9aa3b0', text: '#4a5261', tooltipBg: '#ffffff', tooltipBorder: '#c9ced6' };
}
