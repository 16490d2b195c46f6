// A minimal reselect: a selector recomputes only when one of its inputs changed by identity. The state is
// immutable, so identity is the right test and derived arrays keep their identity between renders (which
// is what lets React.memo and the virtualized tables skip work).

type Selector<S, R> = (state: S) => R;

export function createSelector<S, A, R>(a: Selector<S, A>, combine: (a: A) => R): Selector<S, R>;
export function createSelector<S, A, B, R>(
  a: Selector<S, A>,
  b: Selector<S, B>,
  combine: (a: A, b: B) => R,
): Selector<S, R>;
export function createSelector<S, A, B, C, R>(
  a: Selector<S, A>,
  b: Selector<S, B>,
  c: Selector<S, C>,
  combine: (a: A, b: B, c: C) => R,
): Selector<S, R>;
export function createSelector<S, A, B, C, D, R>(
  a: Selector<S, A>,
  b: Selector<S, B>,
  c: Selector<S, C>,
  d: Selector<S, D>,
  combine: (a: A, b: B, c: C, d: D) => R,
): Selector<S, R>;
export function createSelector<S>(...args: ((...xs: never[]) => unknown)[]): Selector<S, unknown> {
  const combine = args[args.length - 1] as (...xs: unknown[]) => unknown;
  const inputs = args.slice(0, -1) as Selector<S, unknown>[];
  let lastInputs: unknown[] | null = null;
  let lastResult: unknown;
  return (state: S) => {
    const values = inputs.map((input) => input(state));
    if (lastInputs?.length === values.length && values.every((v, i) => Object.is(v, lastInputs?.[i]))) {
      return lastResult;
    }
    lastInputs = values;
    lastResult = combine(...values);
    return lastResult;
  };
}
