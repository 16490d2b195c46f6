import type { MethodName, Result } from '../../../electron/contract/index.js';
import { ApiError, type AgentApi } from './agentApi.js';

/** For a page that cannot reach any agent (no token, wrong protocol): every call says why, once. */
export function unusableApi(message: string): AgentApi {
  const fail = (): Promise<never> => Promise.reject(new ApiError('unusable', message));
  return {
    mode: 'browser',
    desktop: null,
    call: <M extends MethodName>(): Promise<Result<M>> => fail(),
    on: () => () => undefined,
    onConnection: () => () => undefined,
    connect: fail,
    reconnect: fail,
  };
}
