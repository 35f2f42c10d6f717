#!/usr/bin/env -S node --max-semi-space-size=64
// The flag above (also in the root package.json's scripts) gives V8 a 64 MB young generation:
// in embedded mode Warden holds millions of long-lived counters in memory, and with the default
// 16 MB every scavenge took ~15 ms and came every ~40 ms (see docs/design-notes.md).
// Runs the TypeScript sources directly (tsx), so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
