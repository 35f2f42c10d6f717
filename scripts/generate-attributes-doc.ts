import { writeFileSync } from 'node:fs';
import { renderAttributesMarkdown } from '@warden/engine';

// Regenerates docs/attributes.md from the catalogue; a test fails when the file is stale.
const target = new URL('../docs/attributes.md', import.meta.url);
writeFileSync(target, renderAttributesMarkdown());
console.log(`Wrote ${target.pathname}`);
