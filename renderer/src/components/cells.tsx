import type { ReactNode } from 'react';
import { formatAddress, formatBytes, formatCount } from '../logic/format.js';

/**
 * A byte value as number + unit in separate spans: the unit column has a fixed width, so the numbers of a
 * right-aligned column line up on their last digit whatever their unit.
 */
export function Bytes({ value }: { value: number | null }): ReactNode {
  if (value === null) return <span className="faint">—</span>;
  const text = formatBytes(value);
  const space = text.lastIndexOf(' ');
  return (
    <span className="num" title={`${formatCount(value)} bytes`}>
      {text.slice(0, space)}{' '}
      <span className="unit" style={{ display: 'inline-block', width: 24, textAlign: 'left' }}>
        {text.slice(space + 1)}
      </span>
    </span>
  );
}

export function Count({ value }: { value: number }): ReactNode {
  return <span className="num">{formatCount(value)}</span>;
}

/** The split of `values` as a thin stacked bar, one colour per node. */
export function ShareBar({
  values,
  colors,
  title,
}: {
  values: readonly number[];
  colors: readonly string[];
  title?: string;
}): ReactNode {
  const total = values.reduce((a, b) => a + b, 0);
  return (
    <div className="sharebar" title={title}>
      {total > 0
        ? values.map((v, i) =>
            v > 0 ? (
              <span key={i} style={{ width: `${(100 * v) / total}%`, background: colors[i] ?? 'gray' }} />
            ) : null,
          )
        : null}
    </div>
  );
}

export function Spinner({ label }: { label: string }): ReactNode {
  return <span className="spinner" role="status" aria-label={label} />;
}

/** A 12-digit address with its leading zeros faint: aligned like a hex dump, read like /proc/PID/maps. */
export function Address({ hex }: { hex: string }): ReactNode {
  const padded = formatAddress(hex);
  const zeros = padded.length - padded.replace(/^0+/, '').length;
  return (
    <>
      <span className="faint">{padded.slice(0, zeros)}</span>
      {padded.slice(zeros)}
    </>
  );
}
