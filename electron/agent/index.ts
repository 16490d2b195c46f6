// The agent: the engine behind the protocol of electron/contract/protocol.ts, over any transport.
export { AgentServer, type AgentConnection, type AgentServerOptions } from './server.js';
export {
  MAX_AGENT_LINE_BYTES,
  MAX_REQUEST_LINE_BYTES,
  frameLines,
  lineTransport,
  serveLines,
  type LineFramingOptions,
  type LineTransportOptions,
  type ServeLinesOptions,
} from './lines.js';
export {
  connectWebSocket,
  exitReason,
  inProcessPair,
  spawnAgent,
  wsTransport,
  type ConnectWebSocketOptions,
  type SpawnAgentOptions,
  type SpawnedAgent,
} from './transports.js';
export {
  AGENT_HELPER_PATH,
  POLKIT_ACTION_ID,
  cliEntryPath,
  localAgentCommand,
  pkexecAgentCommand,
  sshAgentCommand,
  type LocalAgentOptions,
  type PkexecAgentOptions,
  type SshAgentOptions,
} from './commands.js';
export { startUiServer, type UiServer, type UiServerOptions } from './uiServer.js';
export { ProtocolFailure, errorPayload } from './errors.js';
export { readProcessNodes } from './processNodes.js';
