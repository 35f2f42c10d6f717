// The script-tag bundle's entry: esbuild assigns these exports to the global `Warden`.
export { init, passwordPattern } from './index.js';
