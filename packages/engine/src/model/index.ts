export * from './compiled-model.js';
export * from './model-document.js';
