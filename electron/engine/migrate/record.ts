/**
 * Writes a finished experiment into a finished session (docs/session-format.md, the `experiments` chunk of
 * format 2). A session still being recorded takes experiments from its own recorder instead
 * (SessionWriter.appendExperiment): only one process may write a journal.
 */
import type { Experiment } from '../../contract/index.js';
import { addExperimentToSession } from '../session/index.js';

export async function recordExperimentInSession(path: string, experiment: Experiment): Promise<void> {
  await addExperimentToSession(path, experiment);
}
