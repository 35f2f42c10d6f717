export { type Config, loadConfig } from './config.js';
export { buildApp } from './http/app.js';
export { createLogger } from './logger.js';
export { startServer } from './server.js';
export { createServices, type Services } from './services.js';
