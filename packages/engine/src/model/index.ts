export * from './compiled-model.js';
export * from './import-model.js';
export * from './model-document.js';
export * from './score.js';
export * from './tree-shap.js';
