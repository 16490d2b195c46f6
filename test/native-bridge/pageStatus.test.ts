import { describe, expect, it } from 'vitest';
import { constants } from 'node:os';
import {
  MOVE_OUTCOME_KINDS,
  STATUS_UNREPORTED,
  describePageStatus,
  pageStatusKind,
  reconcileMove,
  reconcilePage,
} from '../../native-bridge/index.js';

const E = constants.errno;

describe('describePageStatus', () => {
  it('decodes node ids and each errno the kernel reports per page', () => {
    expect(describePageStatus(0)).toEqual({ kind: 'on-node', node: 0 });
    expect(describePageStatus(3)).toEqual({ kind: 'on-node', node: 3 });
    expect(describePageStatus(-E.ENOENT)).toEqual({ kind: 'not-present' });
    expect(describePageStatus(-E.EFAULT)).toEqual({ kind: 'fault' });
    expect(describePageStatus(-E.EBUSY)).toEqual({ kind: 'busy' });
    expect(describePageStatus(-E.EACCES)).toEqual({ kind: 'shared' });
    expect(describePageStatus(-E.ENOMEM)).toEqual({ kind: 'no-memory' });
    expect(describePageStatus(-E.EIO)).toEqual({ kind: 'io' });
    expect(describePageStatus(-E.EINVAL)).toEqual({ kind: 'invalid' });
    expect(describePageStatus(STATUS_UNREPORTED)).toEqual({ kind: 'unreported' });
  });

  it('names any other errno', () => {
    expect(describePageStatus(-E.ENODEV)).toEqual({ kind: 'errno', errno: E.ENODEV, errnoName: 'ENODEV' });
    expect(describePageStatus(-E.EPERM)).toEqual({ kind: 'errno', errno: E.EPERM, errnoName: 'EPERM' });
  });

  it('agrees with pageStatusKind', () => {
    for (const s of [0, 5, -E.ENOENT, -E.EFAULT, -E.EBUSY, -E.ENODEV, STATUS_UNREPORTED]) {
      expect(describePageStatus(s).kind).toBe(pageStatusKind(s));
    }
  });
});

describe('reconcilePage', () => {
  it('a page on its target that was there before is already-there, whatever the move said', () => {
    expect(reconcilePage(1, 1, 1, 1)).toEqual({ kind: 'already-there' });
    expect(reconcilePage(1, -E.EBUSY, 1, 1)).toEqual({ kind: 'already-there' });
  });

  it('a page on its target that was elsewhere before moved', () => {
    expect(reconcilePage(1, 1, 1, 0)).toEqual({ kind: 'moved' });
    // Without a before-query, "already there" cannot be told from "moved".
    expect(reconcilePage(1, 1, 1)).toEqual({ kind: 'moved' });
    // Batch aborted before reporting it, but the re-query finds it moved.
    expect(reconcilePage(1, STATUS_UNREPORTED, 1, 0)).toEqual({ kind: 'moved' });
  });

  it('a THP tail that reported -EBUSY but sits on the target moved with its head', () => {
    expect(reconcilePage(2, -E.EBUSY, 2, 0)).toEqual({ kind: 'thp-tail-moved-with-head' });
  });

  it('a page not on its target failed, with the move status as the reason', () => {
    expect(reconcilePage(2, -E.EBUSY, 0, 0)).toEqual({
      kind: 'failed',
      reason: 'busy',
      now: { kind: 'on-node', node: 0 },
    });
    expect(reconcilePage(2, -E.EACCES, 0, 0)).toEqual({
      kind: 'failed',
      reason: 'shared',
      now: { kind: 'on-node', node: 0 },
    });
    expect(reconcilePage(2, -E.ENOENT, -E.ENOENT)).toEqual({
      kind: 'failed',
      reason: 'not-present',
      now: { kind: 'not-present' },
    });
    expect(reconcilePage(2, -E.ENODEV, 0)).toEqual({
      kind: 'failed',
      reason: 'errno',
      now: { kind: 'on-node', node: 0 },
    });
  });

  it('a page reported moved but found elsewhere afterwards changed after the move', () => {
    expect(reconcilePage(2, 2, 0, 0)).toEqual({
      kind: 'failed',
      reason: 'changed-after-move',
      now: { kind: 'on-node', node: 0 },
    });
  });
});

describe('reconcileMove', () => {
  it('classifies a move of a 2 MiB THP (head + tails) plus ordinary pages', () => {
    // Pages 0-3: subpages of one THP moved 0 → 2: head reports 2, tails -EBUSY, all on 2 afterwards.
    // Page 4: already on 2. Page 5: shared (-EACCES), stays on 0. Page 6: busy, stays. Page 7: not present.
    // Page 8: -ENOMEM on the target. Page 9: -ENODEV (other errno).
    const targets = new Int32Array([2, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
    const before = new Int32Array([0, 0, 0, 0, 2, 0, 0, -E.ENOENT, 0, 0]);
    const moveStatus = new Int32Array([
      2,
      -E.EBUSY,
      -E.EBUSY,
      -E.EBUSY,
      2,
      -E.EACCES,
      -E.EBUSY,
      -E.ENOENT,
      -E.ENOMEM,
      -E.ENODEV,
    ]);
    const after = new Int32Array([2, 2, 2, 2, 2, 0, 0, -E.ENOENT, 0, 0]);
    const r = reconcileMove(targets, moveStatus, after, before);
    expect([...r.outcomes].map((c) => MOVE_OUTCOME_KINDS[c])).toEqual([
      'moved',
      'thp-tail-moved-with-head',
      'thp-tail-moved-with-head',
      'thp-tail-moved-with-head',
      'already-there',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
    ]);
    expect(r.moved).toBe(1);
    expect(r.thpTailMovedWithHead).toBe(3);
    expect(r.alreadyThere).toBe(1);
    expect(r.failed).toBe(5);
    expect(r.failedByReason).toEqual({ shared: 1, busy: 1, 'not-present': 1, 'no-memory': 1, ENODEV: 1 });
  });

  it('works without a before-query and per-page outcomes match reconcilePage', () => {
    const targets = new Int32Array([1, 1, 1]);
    const moveStatus = new Int32Array([1, -E.EBUSY, STATUS_UNREPORTED]);
    const after = new Int32Array([1, 1, 0]);
    const r = reconcileMove(targets, moveStatus, after);
    for (let i = 0; i < 3; i++) {
      expect(MOVE_OUTCOME_KINDS[r.outcomes[i] ?? 255]).toBe(
        reconcilePage(1, moveStatus[i] ?? 0, after[i] ?? 0).kind,
      );
    }
    expect(r.failedByReason).toEqual({ unreported: 1 });
  });

  it('refuses arrays of different lengths', () => {
    expect(() => reconcileMove(new Int32Array(2), new Int32Array(2), new Int32Array(3))).toThrow(
      /one length/,
    );
  });
});
