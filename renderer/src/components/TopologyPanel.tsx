import type { ReactNode } from 'react';
import { formatBytes, formatClock, formatPercent } from '../logic/format.js';
import { nodeColor } from '../logic/palette.js';
import { describeBalancing, describeDemotion, distanceClass } from '../logic/topology.js';
import { selectAgentUsable, selectNodeSummaries } from '../state/selectors.js';
import { Bytes, Spinner } from './cells.js';
import { EmptyState } from './EmptyState.js';
import { useAppSelector, useController } from './hooks.js';

export function TopologyPanel(): ReactNode {
  const controller = useController();
  const topology = useAppSelector((s) => s.topology);
  const capabilities = useAppSelector((s) => s.capabilities);
  const nodes = useAppSelector(selectNodeSummaries);
  const theme = useAppSelector((s) => s.theme);
  const usable = useAppSelector(selectAgentUsable);
  const hello = useAppSelector((s) =>
    s.connection.status === 'connected' || s.connection.status === 'lost' ? s.connection.hello : null,
  );

  const t = topology.data;
  if (!t) {
    if (topology.error) {
      return (
        <EmptyState
          tone="error"
          title="Could not read the NUMA topology"
          actions={
            <button className="btn" disabled={!usable} onClick={() => void controller.refreshTopology()}>
              Retry
            </button>
          }
        >
          {topology.error.message}
        </EmptyState>
      );
    }
    return (
      <EmptyState title="Reading topology…">
        <Spinner label="loading" /> /sys/devices/system/node and memory_tiering on the agent's machine.
      </EmptyState>
    );
  }

  const balancing = describeBalancing(t.numaBalancing);
  const demotion = describeDemotion(t.demotionEnabled);
  const cpuLessCount = nodes.filter((n) => n.cpuLess).length;
  const caps = capabilities.data;

  return (
    <div className="scroll">
      <div className="topology" aria-label="Topology">
        <section className="panel">
          <h3>
            Machine
            <span className="aside muted">
              {topology.loadedAtMs !== null
                ? `read ${formatClock(new Date(topology.loadedAtMs).toISOString())} `
                : ''}
              <button
                className="btn small"
                disabled={!usable}
                onClick={() => void controller.refreshTopology()}
              >
                Refresh
              </button>
            </span>
          </h3>
          <dl className="facts">
            <dt>Host</dt>
            <dd>
              {hello ? hello.hostname : '—'}
              {caps ? <span className="muted"> · Linux {caps.kernelRelease}</span> : null}
            </dd>
            <dt>Nodes</dt>
            <dd>
              {t.nodes.length} online{cpuLessCount > 0 ? `, ${cpuLessCount} CPU-less (memory-only)` : ''} ·{' '}
              {formatBytes(t.nodes.reduce((a, n) => a + n.memTotalBytes, 0))} total,{' '}
              {formatBytes(t.nodes.reduce((a, n) => a + n.memFreeBytes, 0))} free
            </dd>
            <dt>Memory tiers</dt>
            <dd>
              {t.tiers.length === 0
                ? 'none reported (no /sys/devices/virtual/memory_tiering): a single tier'
                : t.tiers.map((tier) => `tier ${tier.id}: node ${tier.nodes.join(',')}`).join(' · ')}
            </dd>
            <dt>numa_balancing</dt>
            <dd>
              <span className="mono">{balancing.label}</span>{' '}
              <span className="muted">— {balancing.detail}</span>
            </dd>
            <dt>Demotion</dt>
            <dd>
              <span className="mono">{demotion.label}</span>{' '}
              <span className="muted">— {demotion.detail}</span>
            </dd>
          </dl>
        </section>

        <section className="panel">
          <h3>
            Distances <span className="aside muted">nodeN/distance; 10 = local</span>
          </h3>
          <table className="matrix" aria-label="Node distances">
            <thead>
              <tr>
                <th>from \ to</th>
                {t.nodes.map((n) => (
                  <th key={n.id} scope="col">
                    N{n.id}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {t.nodes.map((from, i) => (
                <tr key={from.id}>
                  <th scope="row">N{from.id}</th>
                  {t.nodes.map((to, j) => {
                    const d = t.distances[i]?.[j];
                    return (
                      <td key={to.id} className={d === undefined ? '' : distanceClass(d)}>
                        {d ?? '—'}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <section className="panel wide">
          <h3>Nodes</h3>
          <div className="nodes">
            {nodes.map((n, index) => (
              <article
                key={n.id}
                className="node-card"
                aria-label={`Node ${n.id}`}
                style={{ ['--node-color' as string]: nodeColor(theme, index) }}
              >
                <header>
                  Node {n.id}
                  {n.cpuLess ? <span className="badge warn">CPU-less</span> : null}
                  {n.tier !== null ? (
                    <span className={`badge ${n.tierRank === 0 ? 'ok' : 'info'}`}>
                      tier {n.tier}
                      {n.tierRank === 0 ? ' · fast' : n.tierRank !== null ? ' · slow' : ''}
                    </span>
                  ) : null}
                </header>
                <dl className="facts">
                  <dt>CPUs</dt>
                  <dd className="mono">{n.cpuLess ? 'none' : n.cpus}</dd>
                  <dt>Total</dt>
                  <dd>
                    <Bytes value={n.totalBytes} />
                  </dd>
                  <dt>Free</dt>
                  <dd>
                    <Bytes value={n.freeBytes} />{' '}
                    <span className="muted">
                      ({formatPercent(n.totalBytes ? n.freeBytes / n.totalBytes : null)})
                    </span>
                  </dd>
                </dl>
                <div
                  className="meter"
                  role="meter"
                  aria-label={`node ${n.id} memory used`}
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={Math.round((n.usedFraction ?? 0) * 100)}
                  title={`${formatPercent(n.usedFraction)} used`}
                >
                  <span style={{ width: `${(n.usedFraction ?? 0) * 100}%` }} />
                </div>
                <span className="muted">{formatPercent(n.usedFraction)} used</span>
              </article>
            ))}
          </div>
        </section>

        <section className="panel wide">
          <h3>
            Access sources
            <span className="aside muted">
              {caps ? `uid ${caps.uid}${caps.capSysAdmin ? ' · CAP_SYS_ADMIN' : ''}` : ''}
            </span>
          </h3>
          {caps ? (
            <table className="plain">
              <tbody>
                {caps.sources.map((s) => (
                  <tr key={s.id}>
                    <td className="mono">{s.id}</td>
                    <td>
                      <span className={`badge ${s.available ? 'ok' : 'warn'}`}>
                        {s.available ? 'available' : 'unavailable'}
                      </span>
                    </td>
                    <td className="muted">{s.reason}</td>
                  </tr>
                ))}
                <tr>
                  <td className="mono">migration</td>
                  <td>
                    <span className={`badge ${caps.canMigrateOthers ? 'ok' : 'warn'}`}>
                      {caps.canMigrateOthers ? 'any process' : 'own only'}
                    </span>
                  </td>
                  <td className="muted">
                    {caps.canMigrateOthers
                      ? 'CAP_SYS_NICE and CAP_SYS_PTRACE: move_pages works on other users’ processes'
                      : 'without CAP_SYS_NICE only your own processes can be migrated (Capture → Elevate)'}
                  </td>
                </tr>
              </tbody>
            </table>
          ) : capabilities.error ? (
            <p className="muted">{capabilities.error.message}</p>
          ) : (
            <Spinner label="loading" />
          )}
        </section>
      </div>
    </div>
  );
}
