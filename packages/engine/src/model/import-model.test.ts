import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Result } from '../result.js';
import { compileModel, modelInput, predictMargin } from './compiled-model.js';
import { importModel } from './import-model.js';
import type { ModelDocument } from './model-document.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../test-fixtures/models/${name}`, import.meta.url), 'utf8');

const MODEL_FILES = [
  'xgboost-binary.json',
  'xgboost-dart.json',
  'lightgbm-binary.txt',
  'lightgbm-matrix.txt',
];

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.problem.code}: ${result.problem.message}`);
  return result.value;
}

function problemOf<T>(result: Result<T>): string {
  expect(result.ok).toBe(false);
  if (result.ok) return '';
  expect(result.problem.code).toBe('invalid_model');
  return result.problem.message;
}

/** Whatever importModel returns is a compiled-checked model or an invalid_model refusal. */
function expectModelOrRefusal(result: Result<ModelDocument>): void {
  if (!result.ok) {
    expect(result.problem.code).toBe('invalid_model');
    expect(result.problem.message.length).toBeGreaterThan(0);
    return;
  }
  const model = unwrap(compileModel(result.value));
  const margin = predictMargin(model, modelInput(model, {}));
  expect(Number.isFinite(margin)).toBe(true);
}

describe('importModel', () => {
  it('detects each format', () => {
    expect(unwrap(importModel(fixture('xgboost-binary.json'))).source).toBe('xgboost');
    expect(unwrap(importModel(fixture('lightgbm-binary.txt'))).source).toBe('lightgbm');
    const options = {
      categories: { 'ip.country': ['US', 'GB', 'FR', 'DE', 'NG', 'BR', 'IN', 'CN', 'RU', 'ES', 'IT', 'CA'] },
    };
    const named = unwrap(importModel(fixture('xgboost-binary.json'), options));
    expect(named.features.find((f) => f.name === 'ip.country')?.categories).toEqual(
      options.categories['ip.country'],
    );
  });

  it("returns Warden's own JSON as it is, once compileModel accepts it", () => {
    const doc = unwrap(importModel(fixture('lightgbm-binary.txt')));
    const again = unwrap(importModel(JSON.stringify(doc)));
    expect(again).toEqual(doc);
    expect(unwrap(importModel(`\ufeff${JSON.stringify(doc, null, 2)}`))).toEqual(doc);
    expect(problemOf(importModel(JSON.stringify({ ...doc, trees: [] })))).toMatch(
      /trees: must hold at least one tree/,
    );
    expect(problemOf(importModel(JSON.stringify({ ...doc, format: 'other' })))).toMatch(/format: "other"/);
  });

  it('refuses what is not a model with a message', () => {
    expect(problemOf(importModel(''))).toMatch(/empty/);
    expect(problemOf(importModel('  \n '))).toMatch(/empty/);
    expect(problemOf(importModel('hello'))).toMatch(/not a model file Warden reads/);
    expect(problemOf(importModel('{'))).toMatch(/not valid JSON/);
    expect(problemOf(importModel('{"a": 1}'))).toMatch(/either Warden's .* or XGBoost's/);
    expect(problemOf(importModel('{"tree_info": []}'))).toMatch(/LightGBM's JSON dump/);
    expect(problemOf(importModel('{"learner": {"objective": {"name": "binary:hinge"}}}'))).toMatch(
      /objective "binary:hinge" is not supported/,
    );
    expect(problemOf(importModel('tree\nversion=v4\n'))).toMatch(/end of trees/);
    expect(problemOf(importModel('{U\u0007learnerU'))).toMatch(/not valid JSON/);
    expect(problemOf(importModel(undefined as unknown as string))).toMatch(/text/);
  });

  it('never throws on random text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ maxLength: 200 }).map((s) => `tree\nversion=v4\n${s}`),
          fc.string({ maxLength: 200 }).map((s) => `{"learner": ${s}`),
          fc.json().map((s) => `{"learner": ${s}}`),
        ),
        (text) => expectModelOrRefusal(importModel(text)),
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on damaged fixture files, and what it accepts scores', () => {
    const files = MODEL_FILES.map(fixture);
    const mutation = fc.oneof(
      // Delete a slice.
      fc.tuple(fc.constant('delete' as const), fc.nat(), fc.nat({ max: 400 }), fc.constant('')),
      // Insert a few characters, often digits, signs and separators that keep the shape plausible.
      fc.tuple(
        fc.constant('insert' as const),
        fc.nat(),
        fc.constant(0),
        fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom('-', '9', '0', ' ', '\n', ',', '-1', 'NaN', '1e308', ']'),
        ),
      ),
      // Overwrite a character.
      fc.tuple(
        fc.constant('replace' as const),
        fc.nat(),
        fc.constant(1),
        fc.constantFrom('0', '7', '-', ' ', 'x', '\n', '"'),
      ),
      // Cut the file short.
      fc.tuple(fc.constant('truncate' as const), fc.nat(), fc.constant(0), fc.constant('')),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: files.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (f, steps) => {
          let text = files[f] as string;
          for (const [kind, at, length, insert] of steps) {
            const i = at % (text.length + 1);
            if (kind === 'truncate') text = text.slice(0, i);
            else text = text.slice(0, i) + insert + text.slice(i + length);
          }
          expectModelOrRefusal(importModel(text));
        },
      ),
      { numRuns: 400 },
    );
  });
});
