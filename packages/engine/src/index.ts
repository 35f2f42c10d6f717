export * from './card-number.js';
export * from './currencies.js';
export * from './decide.js';
export * from './entities.js';
export * from './normalise.js';
export * from './result.js';
export * from './validate-event.js';
