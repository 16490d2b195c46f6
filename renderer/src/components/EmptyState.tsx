import type { ReactNode } from 'react';

/** A centred message for views with nothing to show: what happened and what to do, with buttons for it. */
export function EmptyState({
  title,
  children,
  actions,
  tone = 'neutral',
}: {
  title: string;
  children?: ReactNode;
  actions?: ReactNode;
  tone?: 'neutral' | 'error';
}): ReactNode {
  return (
    <div className={`state${tone === 'error' ? ' error' : ''}`} role={tone === 'error' ? 'alert' : 'status'}>
      <h2>{title}</h2>
      {children ? <p>{children}</p> : null}
      {actions ? <div className="actions">{actions}</div> : null}
    </div>
  );
}
