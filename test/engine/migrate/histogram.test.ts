import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  addReconciliation,
  describeHistogram,
  emptyHistogram,
  histogramFailed,
  histogramOnTarget,
  histogramPages,
  mergeHistograms,
  tallyByNode,
} from '../../../electron/engine/migrate/histogram.js';
import { STATUS_UNREPORTED, reconcileMove } from '../../../native-bridge/index.js';
import { MoveHistogram } from '../../../electron/contract/index.js';

const E = constants.errno;

describe('MoveHistogram from reconcileMove', () => {
  it('maps every outcome and failure reason to its slot', () => {
    // Pages: moved, already there, THP tail, shared, target full, not present, unmapped, busy, I/O,
    // an aborted batch (unreported), and one that the move put on the target but that moved on since.
    const targets = new Int32Array(11).fill(0);
    const before = Int32Array.from([2, 0, 2, 2, 2, -E.ENOENT, -E.EFAULT, 2, 2, 2, 2]);
    const status = Int32Array.from([
      0,
      0,
      -E.EBUSY,
      -E.EACCES,
      -E.ENOMEM,
      -E.ENOENT,
      -E.EFAULT,
      -E.EBUSY,
      -E.EIO,
      STATUS_UNREPORTED,
      0,
    ]);
    const after = Int32Array.from([0, 0, 0, 2, 2, -E.ENOENT, -E.EFAULT, 2, 2, 2, 1]);
    const h = addReconciliation(emptyHistogram(), reconcileMove(targets, status, after, before));
    expect(h).toEqual({
      moved: 1,
      alreadyThere: 1,
      thpTailMovedWithHead: 1,
      shared: 1,
      targetFull: 1,
      notPresent: 2,
      otherFailures: { EBUSY: 1, EIO: 1, unreported: 1, 'changed-after-move': 1 },
    });
    expect(MoveHistogram.parse(h)).toEqual(h);
    expect(histogramPages(h)).toBe(11);
    expect(histogramOnTarget(h)).toBe(3);
    expect(histogramFailed(h)).toBe(6);
    expect(describeHistogram(h)).toBe(
      'moved 1, already there 1, THP tails moved with head 1, shared 1, target full 1, not present 2, EBUSY 1, EIO 1, unreported 1, changed-after-move 1',
    );
  });

  it('accumulates batch after batch, and merges', () => {
    const t = new Int32Array(2).fill(1);
    const h = emptyHistogram();
    addReconciliation(
      h,
      reconcileMove(t, Int32Array.from([1, -E.EBUSY]), Int32Array.from([1, 0]), Int32Array.from([0, 0])),
    );
    addReconciliation(
      h,
      reconcileMove(t, Int32Array.from([1, 1]), Int32Array.from([1, 1]), Int32Array.from([0, 1])),
    );
    expect(h).toMatchObject({ moved: 2, alreadyThere: 1, otherFailures: { EBUSY: 1 } });
    const m = mergeHistograms(h, { ...emptyHistogram(), moved: 5, otherFailures: { EBUSY: 2, EIO: 1 } });
    expect(m).toMatchObject({ moved: 7, alreadyThere: 1, otherFailures: { EBUSY: 3, EIO: 1 } });
    expect(h.otherFailures).toEqual({ EBUSY: 1 }); // inputs untouched
  });
});

describe('tallyByNode', () => {
  it('counts resident pages per node, optionally only some of them, in bytes', () => {
    const s = Int32Array.from([0, 2, 2, -E.ENOENT, 1, 2]);
    expect(tallyByNode(s)).toEqual({ '0': 1, '1': 1, '2': 3 });
    expect(tallyByNode(s, 4096)).toEqual({ '0': 4096, '1': 4096, '2': 3 * 4096 });
    expect(tallyByNode(s, 1, [1, 3, 5])).toEqual({ '2': 2 });
  });
});
