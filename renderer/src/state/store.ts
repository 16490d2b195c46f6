import { reducer, type Action } from './reducer.js';
import type { AppState } from './state.js';

/** A Redux-shaped store without the dependency: one reducer, synchronous dispatch, subscribe. */
export interface Store {
  // Properties, not methods: they close over the store and are safe to pass around unbound.
  readonly getState: () => AppState;
  readonly dispatch: (action: Action) => void;
  readonly subscribe: (listener: () => void) => () => void;
}

export function createStore(initial: AppState): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = reducer(state, action);
      if (next === state) return;
      state = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
