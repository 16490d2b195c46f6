import type { AccessSourceId, Capabilities } from '../../contract/index.js';
import { TierscopeError } from '../errors.js';
import type { AccessSource } from '../access/source.js';
import { DamonSource } from '../access/damonSource.js';
import { IdlePagesSource } from '../access/idlePages.js';
import { PageIdleSource } from '../access/pageIdleSource.js';
import { RefsSource } from '../access/refs.js';

export type SourceRequest = AccessSourceId | 'auto';

export interface SourceChoice {
  id: AccessSourceId;
  /** Shown next to every view: why this source (or that the user forced it). */
  reason: string;
}

/**
 * Picks the access source. `auto` takes the first available in the probe's preference order (finest
 * and cheapest first: idle_pages, page_idle, damon, refs). A forced source that is unavailable is an
 * error that says why and what would enable it — never a silent fallback to something coarser.
 */
export function chooseSource(caps: Capabilities, request: SourceRequest): SourceChoice {
  if (request !== 'auto') {
    const s = caps.sources.find((x) => x.id === request);
    if (!s) throw new TierscopeError('unsupported', `unknown access source '${request}'`);
    if (!s.available)
      throw new TierscopeError('unsupported', `access source ${request} is not usable here: ${s.reason}`);
    return { id: s.id, reason: `chosen by the user (--source ${request})` };
  }
  const first = caps.sources.find((s) => s.available);
  if (!first) {
    const why = caps.sources.map((s) => `${s.id}: ${s.reason}`).join('; ');
    throw new TierscopeError('unsupported', `no access source is usable for this process (${why})`);
  }
  const skipped = caps.sources.slice(0, caps.sources.indexOf(first));
  const because = skipped.length
    ? `; finer sources unavailable: ${skipped.map((s) => `${s.id} (${s.reason})`).join('; ')}`
    : '';
  return { id: first.id, reason: `auto: ${first.id} is the finest source available${because}` };
}

export interface SourceFactoryOptions {
  procRoot?: string;
  sysRoot?: string;
  pageSizeBytes: number;
  /** The recording interval; DAMON uses it as its aggregation interval. */
  intervalMs: number;
  /** Where the DAMON source keeps its kdamond ownership record (default /run/tierscope). */
  damonStateDir?: string;
}

/** Creates the source object (nothing is opened or started until start()). */
export function createSource(id: AccessSourceId, pid: number, options: SourceFactoryOptions): AccessSource {
  const procRoot = options.procRoot ?? '/proc';
  const sysRoot = options.sysRoot ?? '/sys';
  switch (id) {
    case 'refs':
      return new RefsSource(pid, { procRoot, pageSizeBytes: options.pageSizeBytes });
    case 'idle_pages':
      return new IdlePagesSource(pid, { procRoot });
    case 'page_idle':
      return new PageIdleSource(pid, { procRoot, sysRoot, pageSizeBytes: options.pageSizeBytes });
    case 'damon':
      return new DamonSource(pid, {
        procRoot,
        sysRoot,
        intervalMs: options.intervalMs,
        ...(options.damonStateDir !== undefined ? { stateDir: options.damonStateDir } : {}),
      });
  }
}
