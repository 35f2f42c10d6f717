/** Benchmarks draw their data from the project's one seeded generator (mulberry32). */
export { seededRandom } from '@warden/engine';
