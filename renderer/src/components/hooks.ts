import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Controller } from '../state/controller.js';
import type { Action } from '../state/reducer.js';
import type { AppState } from '../state/state.js';
import type { Store } from '../state/store.js';

export interface AppContextValue {
  store: Store;
  controller: Controller;
}

export const AppContext = createContext<AppContextValue | null>(null);

function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('component rendered outside <AppContext.Provider>');
  return value;
}

/** Re-renders when the selected value changes by identity (selectors are memoized, see selectors.ts). */
export function useAppSelector<T>(selector: (state: AppState) => T): T {
  const { store } = useApp();
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}

export function useDispatch(): (action: Action) => void {
  return useApp().store.dispatch;
}

export function useController(): Controller {
  return useApp().controller;
}
