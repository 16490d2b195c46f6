// The one contract that crosses every boundary (engine ↔ CLI ↔ agent ↔ Electron ↔ renderer).
// Schemas are the source of truth; types are inferred from them so both can never drift.
export * from './common.js';
export * from './topology.js';
export * from './process.js';
export * from './vma.js';
export * from './caps.js';
export * from './session.js';
export * from './report.js';
export * from './experiment.js';
export * from './sessionView.js';
export * from './protocol.js';
