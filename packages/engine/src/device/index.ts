export * from './device-match.js';
export * from './device-similarity.js';
export * from './fnv1a64.js';
