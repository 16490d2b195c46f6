import { memo, useMemo, type ReactNode } from 'react';
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { HistoryPoint } from '../logic/history.js';
import { formatBytes, formatClock, formatDurationMs } from '../logic/format.js';
import { chartTheme, kindColor, nodeColor, type Theme } from '../logic/palette.js';
import { byteTicks } from '../logic/ticks.js';
import type { KindNodeSummary } from '../logic/vmas.js';

const bytesTick = (v: number): string => formatBytes(v);

function tooltipStyle(theme: Theme): React.CSSProperties {
  const c = chartTheme(theme);
  return { background: c.tooltipBg, border: `1px solid ${c.tooltipBorder}`, borderRadius: 4, fontSize: 11 };
}

/**
 * Resident bytes per node over the live session, stacked: the shape shows both the process growing and
 * its pages moving between nodes (a band shrinking while another grows).
 */
export const ResidencyOverTime = memo(function ResidencyOverTime({
  history,
  nodes,
  theme,
}: {
  history: readonly HistoryPoint[];
  nodes: readonly number[];
  theme: Theme;
}): ReactNode {
  const c = chartTheme(theme);
  const data = useMemo(() => {
    const first = history[0]?.atMs ?? 0;
    return history.map((p) => ({ t: p.atMs - first, at: p.atMs, ...prefixed(p.bytesByNode) }));
  }, [history]);
  const ticks = useMemo(
    () =>
      byteTicks(Math.max(0, ...history.map((p) => Object.values(p.bytesByNode).reduce((a, b) => a + b, 0)))),
    [history],
  );
  if (history.length < 2) {
    return (
      <div className="chart muted" style={{ display: 'grid', placeItems: 'center', textAlign: 'center' }}>
        {history.length === 0
          ? 'No samples yet.'
          : 'One sample so far: the chart fills in while live updates arrive.'}
      </div>
    );
  }
  return (
    <div className="chart" aria-label="Resident bytes per node over time">
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={data} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid stroke={c.grid} vertical={false} />
          <XAxis
            dataKey="t"
            type="number"
            domain={['dataMin', 'dataMax']}
            tickFormatter={(v: number) => formatDurationMs(v)}
            stroke={c.axis}
            tick={{ fill: c.text, fontSize: 10 }}
            minTickGap={40}
          />
          <YAxis
            tickFormatter={bytesTick}
            ticks={ticks}
            domain={[0, ticks[ticks.length - 1] ?? 0]}
            stroke={c.axis}
            tick={{ fill: c.text, fontSize: 10 }}
            width={64}
          />
          <Tooltip
            contentStyle={tooltipStyle(theme)}
            labelFormatter={(_label, payload) => {
              const at = (payload[0]?.payload as { at?: number } | undefined)?.at;
              return at === undefined ? '' : formatClock(new Date(at).toISOString());
            }}
            formatter={(value, name) => [formatBytes(Number(value)), String(name)]}
          />
          {nodes.map((n, i) => (
            <Area
              key={n}
              type="stepAfter"
              dataKey={`n${n}`}
              name={`node ${n}`}
              stackId="nodes"
              stroke={nodeColor(theme, i)}
              fill={nodeColor(theme, i)}
              fillOpacity={0.35}
              isAnimationActive={false}
            />
          ))}
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
});

function prefixed(byNode: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(byNode)) out[`n${k}`] = v;
  return out;
}

/** Where each node's share of the process comes from: heap, anonymous, file, shm … stacked per node. */
export const KindByNode = memo(function KindByNode({
  summary,
  nodes,
  theme,
}: {
  summary: readonly KindNodeSummary[];
  nodes: readonly number[];
  theme: Theme;
}): ReactNode {
  const c = chartTheme(theme);
  const data = useMemo(
    () =>
      nodes.map((n, i) => {
        const row: Record<string, number | string> = { node: `N${n}` };
        for (const k of summary) row[k.kind] = k.bytes[i] ?? 0;
        return row;
      }),
    [summary, nodes],
  );
  const ticks = useMemo(
    () => byteTicks(Math.max(0, ...nodes.map((_, i) => summary.reduce((a, k) => a + (k.bytes[i] ?? 0), 0)))),
    [summary, nodes],
  );
  if (summary.length === 0) {
    return (
      <div className="chart muted" style={{ display: 'grid', placeItems: 'center' }}>
        Nothing resident.
      </div>
    );
  }
  return (
    <>
      <div className="chart" aria-label="Resident bytes per node by mapping kind">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={data} layout="vertical" margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid stroke={c.grid} horizontal={false} />
            <XAxis
              type="number"
              ticks={ticks}
              domain={[0, ticks[ticks.length - 1] ?? 0]}
              tickFormatter={bytesTick}
              stroke={c.axis}
              tick={{ fill: c.text, fontSize: 10 }}
              minTickGap={30}
            />
            <YAxis
              type="category"
              dataKey="node"
              stroke={c.axis}
              tick={{ fill: c.text, fontSize: 11 }}
              width={34}
            />
            <Tooltip
              contentStyle={tooltipStyle(theme)}
              cursor={{ fill: c.grid }}
              formatter={(value, name) => [formatBytes(Number(value)), String(name)]}
            />
            {summary.map((k) => (
              <Bar
                key={k.kind}
                dataKey={k.kind}
                stackId="kinds"
                fill={kindColor(k.kind)}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
      <div className="legend">
        {summary.map((k) => (
          <span key={k.kind}>
            <span className="swatch" style={{ background: kindColor(k.kind) }} />
            {k.kind} {formatBytes(k.total)}
          </span>
        ))}
      </div>
    </>
  );
});
