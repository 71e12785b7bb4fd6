export { startServer, type RunningServer } from './server.js';
export { resolveServeConfig, type ServerConfig } from './config.js';
export type { Store } from './store/store.js';
export { SqliteStore } from './store/sqlite/sqlite-store.js';
