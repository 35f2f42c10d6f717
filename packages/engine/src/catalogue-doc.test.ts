import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTRIBUTES } from './catalogue.js';
import { renderAttributesMarkdown } from './catalogue-doc.js';
import { VelocityModel } from './velocity.js';

/** Guarantee: docs/attributes.md is the catalogue as it is, so users read what rules accept. */
describe('docs/attributes.md', () => {
  it('is up to date with the catalogue (run `npm run docs:attributes` if this fails)', () => {
    const file = readFileSync(new URL('../../../docs/attributes.md', import.meta.url), 'utf8');
    expect(file).toBe(renderAttributesMarkdown());
  });

  it('documents every attribute once, each with a description and an example', () => {
    const all = [...ATTRIBUTES, ...VelocityModel.builtin().attributes];
    const names = all.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of all) {
      expect(a.description.length, a.name).toBeGreaterThan(5);
      expect(renderAttributesMarkdown()).toContain(`\`${a.name}\``);
    }
  });
});
