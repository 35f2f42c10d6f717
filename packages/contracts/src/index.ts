export * from './counters.js';
export * from './decisions.js';
export * from './errors.js';
export * from './events.js';
export * from './limits.js';
export * from './lists.js';
export * from './requirements.js';
export * from './rules.js';
