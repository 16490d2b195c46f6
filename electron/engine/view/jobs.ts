// Shutdown shared by the managers of agent-run jobs (recordings, migration experiments).

/** A job still starting: aborting it makes it refuse to start, or start and register as running. */
export interface StartingJob {
  controller: AbortController;
  settled: Promise<unknown>;
}

/** A running job: aborting it ends it; `done` settles once its end is handled. */
export interface RunningJob {
  controller: AbortController;
  done: Promise<unknown>;
}

/**
 * Aborts every starting job and waits for each to settle, then aborts every running one — read only then,
 * so that a starting job which registered meanwhile is included — and waits until each is done.
 */
export async function abortAll(
  starting: Iterable<StartingJob>,
  running: () => Iterable<RunningJob>,
): Promise<void> {
  const pending = [...starting];
  for (const s of pending) s.controller.abort();
  await Promise.all(pending.map((s) => s.settled));
  const all = [...running()];
  for (const r of all) r.controller.abort();
  await Promise.all(all.map((r) => r.done));
}
