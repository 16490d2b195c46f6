import { useCallback, useMemo, useState, type ReactNode } from 'react';
import type { ProcessInfo } from '../../../electron/contract/index.js';
import { formatClock, formatStartTime } from '../logic/format.js';
import { nodeColor } from '../logic/palette.js';
import { naturalProcessDirection, nodeBytesOf, processKey, type ProcessSortKey } from '../logic/processes.js';
import { toggleSort } from '../logic/sort.js';
import {
  selectAgentUsable,
  selectCpuLessNodes,
  selectNodeIds,
  selectVisibleProcesses,
} from '../state/selectors.js';
import { Bytes, Spinner } from './cells.js';
import { useAppSelector, useController, useDispatch } from './hooks.js';
import { EmptyState } from './EmptyState.js';
import { VirtualTable, type Column } from './VirtualTable.js';

export function ProcessPicker(): ReactNode {
  const controller = useController();
  const dispatch = useDispatch();
  const processes = useAppSelector((s) => s.processes);
  const query = useAppSelector((s) => s.processQuery);
  const rows = useAppSelector(selectVisibleProcesses);
  const nodeIds = useAppSelector(selectNodeIds);
  const cpuLess = useAppSelector(selectCpuLessNodes);
  const nodePages = useAppSelector((s) => s.nodePages);
  const exited = useAppSelector((s) => s.exited);
  const theme = useAppSelector((s) => s.theme);
  const usable = useAppSelector(selectAgentUsable);
  const targetKey = useAppSelector((s) =>
    s.target && s.target.startTimeTicks !== null
      ? processKey({ pid: s.target.pid, startTimeTicks: s.target.startTimeTicks })
      : null,
  );
  const [selected, setSelected] = useState<string | null>(null);
  const now = useMemo(() => new Date(processes.loadedAtMs ?? 0), [processes.loadedAtMs]);

  const columns = useMemo((): Column<ProcessInfo, ProcessSortKey>[] => {
    const nodeColumns = nodeIds.map((id, index): Column<ProcessInfo, ProcessSortKey> => ({
      id: `node${id}`,
      header: (
        <span className="node-head">
          <span className="swatch" style={{ background: nodeColor(theme, index) }} />N{id}
          {cpuLess.has(id) ? <span className="nocpu">no-cpu</span> : null}
        </span>
      ),
      title: `Resident on node ${id}${cpuLess.has(id) ? ' (CPU-less)' : ''}, from numa_maps; measured for the rows on screen`,
      width: '92px',
      align: 'right',
      sortKey: `node:${id}`,
      render: (p) => {
        const entry = nodePages[processKey(p)];
        if (!p.hasUserMemory) return <span className="faint">—</span>;
        if (entry === undefined || entry.status === 'pending') return <span className="faint">…</span>;
        if (entry.status === 'error') {
          return (
            <span className="faint" title={entry.message}>
              {entry.code === 'permission' ? 'no access' : '—'}
            </span>
          );
        }
        return <Bytes value={nodeBytesOf(entry, id)} />;
      },
      cellClass: (p) => (nodeBytesOf(nodePages[processKey(p)], id) === 0 ? 'zero' : undefined),
    }));
    return [
      { id: 'pid', header: 'PID', width: '70px', align: 'right', sortKey: 'pid', render: (p) => p.pid },
      { id: 'user', header: 'User', width: '90px', sortKey: 'user', render: (p) => p.user },
      {
        id: 'command',
        header: 'Command',
        width: 'minmax(260px, 1fr)',
        sortKey: 'command',
        render: (p) => (
          <span title={p.cmdline || p.comm}>
            <span className="comm">{p.comm}</span>
            {exited[processKey(p)] ? <span className="badge error"> exited </span> : null}{' '}
            <span className="faint mono">{p.cmdline}</span>
          </span>
        ),
      },
      {
        id: 'start',
        header: 'Started',
        title: 'Start time (local); with the PID it identifies the process across PID reuse',
        width: '110px',
        align: 'right',
        sortKey: 'startTime',
        render: (p) => <span className="num">{formatStartTime(p.startTime, now)}</span>,
      },
      {
        id: 'rss',
        header: 'RSS',
        title: 'Resident set size (VmRSS)',
        width: '92px',
        align: 'right',
        sortKey: 'rss',
        render: (p) => <Bytes value={p.rssBytes} />,
      },
      ...nodeColumns,
    ];
  }, [nodeIds, cpuLess, nodePages, exited, theme, now]);

  const onVisibleRows = useCallback(
    (visible: readonly ProcessInfo[]) => {
      controller.requestNodePages(visible);
    },
    [controller],
  );

  const open = (p: ProcessInfo): void => {
    if (!usable) return;
    void controller.selectProcess(p);
  };

  let body: ReactNode;
  if (processes.data === null && processes.error) {
    body = (
      <EmptyState
        tone="error"
        title="Could not list processes"
        actions={
          <button className="btn" disabled={!usable} onClick={() => void controller.refreshProcesses()}>
            Retry
          </button>
        }
      >
        {processes.error.message}
      </EmptyState>
    );
  } else if (processes.data === null) {
    body = (
      <EmptyState title="Listing processes…">
        <Spinner label="loading" /> Reading /proc on the agent's machine.
      </EmptyState>
    );
  } else {
    body = (
      <VirtualTable
        label="Processes"
        rows={rows}
        columns={columns}
        rowKey={processKey}
        sort={query.sort}
        onSort={(key) => {
          dispatch({
            type: 'processes/query',
            query: { sort: toggleSort(query.sort, key, naturalProcessDirection(key)) },
          });
        }}
        selectedKey={selected ?? targetKey}
        onSelect={(p) => {
          setSelected(processKey(p));
        }}
        onActivate={open}
        rowClass={(p) => (exited[processKey(p)] ? 'dead' : undefined)}
        onVisibleRows={onVisibleRows}
        empty={
          query.text
            ? `No process matches “${query.text}”. Terms match PID, user, command and command line; user:NAME and pid:N match exactly.`
            : 'No processes with user memory are visible to the agent.'
        }
      />
    );
  }

  const selectedProcess = rows.find((p) => processKey(p) === selected) ?? null;
  return (
    <>
      <div className="toolbar">
        <input
          className="input"
          type="search"
          placeholder="Search pid, user, command…   user:root  pid:42"
          aria-label="Search processes"
          style={{ width: 340 }}
          value={query.text}
          onChange={(e) => {
            dispatch({ type: 'processes/query', query: { text: e.target.value } });
          }}
        />
        <label className="check">
          <input
            type="checkbox"
            checked={query.showKernelThreads}
            onChange={(e) => {
              dispatch({ type: 'processes/query', query: { showKernelThreads: e.target.checked } });
            }}
          />
          kernel threads
        </label>
        <span className="muted">
          {rows.length} of {processes.data?.length ?? 0} processes
          {processes.loadedAtMs !== null
            ? ` · listed ${formatClock(new Date(processes.loadedAtMs).toISOString())}`
            : ''}
        </span>
        <span className="grow" />
        <button
          className="btn"
          disabled={!usable || processes.loading}
          onClick={() => void controller.refreshProcesses()}
        >
          {processes.loading ? 'Refreshing…' : 'Refresh'}
        </button>
        <button
          className="btn"
          disabled={!usable}
          onClick={() => {
            dispatch({ type: 'dialog/set', dialog: { type: 'launch' } });
          }}
        >
          Launch…
        </button>
        <button
          className="btn primary"
          disabled={!usable || selectedProcess === null}
          onClick={() => {
            if (selectedProcess) open(selectedProcess);
          }}
        >
          Open
        </button>
      </div>
      {body}
    </>
  );
}
