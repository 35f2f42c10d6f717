import type { PasswordPattern } from '@warden/contracts';
import { type MatchExtended, ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs } from '@zxcvbn-ts/language-common';
import { COMMON_PASSWORDS } from './common-passwords.js';

/** What the page learns about a password; the password itself never leaves the page. */
export interface PasswordPatternResult {
  /** zxcvbn strength, 0 (weak) to 4. */
  score: 0 | 1 | 2 | 3 | 4;
  /** log10 of the guesses zxcvbn estimates, rounded to 2 decimals and capped at the contract's 100. */
  guesses_log10: number;
  pattern: PasswordPattern;
}

const SHORT_BELOW = 8;
const GENERATED_MIN_LENGTH = 12;
const GENERATED_MIN_CLASSES = 3;
/** "Most of it": a share of the password's characters. */
const MOST = 0.5;
/** A generated password is brute force nearly all through; a stray three-letter match is chance. */
const GENERATED_BRUTEFORCE_SHARE = 0.75;
const PERSONAL_MIN_TOKEN = 3;
const MAX_GUESSES_LOG10 = 100;

type Zxcvbn = InstanceType<typeof ZxcvbnFactory>;
let scorer: Zxcvbn | undefined;
let structure: Zxcvbn | undefined;

// Both are built on first use: building the ranked dictionary and the l33t table takes a few
// milliseconds that a page which never asks for a password pattern should not pay.
function getScorer(): Zxcvbn {
  scorer ??= new ZxcvbnFactory({ graphs: adjacencyGraphs, dictionary: { passwords: [...COMMON_PASSWORDS] } });
  return scorer;
}

// The common-password list holds keyboard walks and sequences too ('qwertyuiop', '12345678'): with
// it, zxcvbn calls them dictionary words. The pattern is about how the password was made, so it is
// read from a second pass that knows the structures and no words.
function getStructure(): Zxcvbn {
  structure ??= new ZxcvbnFactory({ graphs: adjacencyGraphs, dictionary: {} });
  return structure;
}

/**
 * zxcvbn's score and guesses for `password`, and what kind of password it is. `userInputs` are what
 * the page knows of the user (name, email, username): a password built on them is 'personal'.
 */
export function passwordPattern(password: string, userInputs: readonly string[] = []): PasswordPatternResult {
  const inputs = expandUserInputs(userInputs);
  const scored = getScorer().check(password, inputs);
  const structural = getStructure().check(password).sequence;
  return {
    score: scored.score,
    guesses_log10: Math.min(MAX_GUESSES_LOG10, Math.max(0, Math.round(scored.guessesLog10 * 100) / 100)),
    pattern: classifyPassword(password, scored.sequence, structural, scored.score),
  };
}

/**
 * The pattern, from two zxcvbn match sequences of the same password: `scored` (with the common
 * passwords and the user's inputs) and `structural` (with no dictionary).
 */
export function classifyPassword(
  password: string,
  scored: readonly MatchExtended[],
  structural: readonly MatchExtended[],
  score: number,
): PasswordPattern {
  if ([...password].length < SHORT_BELOW) return 'short';
  const personal = scored.some(
    (match) =>
      isDictionary(match) &&
      match.dictionaryName === 'userInputs' &&
      match.token.length >= PERSONAL_MIN_TOKEN,
  );
  if (personal) return 'personal';

  const structures: [PasswordPattern, (match: MatchExtended) => boolean][] = [
    ['keyboard', (match) => match.pattern === 'spatial'],
    ['sequence', (match) => match.pattern === 'sequence'],
    ['repeat', (match) => match.pattern === 'repeat'],
    [
      'date',
      (match) => match.pattern === 'date' || (match.pattern === 'regex' && match.regexName === 'recentYear'),
    ],
  ];
  let best: PasswordPattern | undefined;
  let bestShare = 0;
  for (const [pattern, is] of structures) {
    const share = coverage(structural, is);
    if (share > bestShare) {
      best = pattern;
      bestShare = share;
    }
  }
  if (best && bestShare > MOST) return best;

  if (coverage(scored, (match) => isDictionary(match) && match.dictionaryName !== 'userInputs') > MOST) {
    return 'dictionary';
  }
  const generated =
    score === 4 &&
    password.length >= GENERATED_MIN_LENGTH &&
    characterClasses(password) >= GENERATED_MIN_CLASSES &&
    coverage(scored, (match) => match.pattern === 'bruteforce') >= GENERATED_BRUTEFORCE_SHARE;
  return generated ? 'generated' : 'mixed';
}

function isDictionary(match: MatchExtended): match is MatchExtended & { dictionaryName: string } {
  return match.pattern === 'dictionary' && typeof match.dictionaryName === 'string';
}

/** The share of the password's characters that the matches passing `is` cover. */
function coverage(sequence: readonly MatchExtended[], is: (match: MatchExtended) => boolean): number {
  let covered = 0;
  let total = 0;
  for (const match of sequence) {
    const length = match.j - match.i + 1;
    total += length;
    if (is(match)) covered += length;
  }
  return total === 0 ? 0 : covered / total;
}

function characterClasses(password: string): number {
  return [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(password)).length;
}

/**
 * zxcvbn matches user inputs as whole words, so 'ana.garcia@example.com' alone would not catch the
 * password 'garcia1987'. Each input also contributes its alphanumeric parts of 3 or more characters.
 */
export function expandUserInputs(userInputs: readonly string[]): string[] {
  const words = new Set<string>();
  for (const input of userInputs) {
    const lower = input.toLowerCase().trim();
    if (lower.length >= PERSONAL_MIN_TOKEN) words.add(lower);
    for (const part of lower.split(/[^\p{L}\p{N}]+/u)) {
      if (part.length >= PERSONAL_MIN_TOKEN) words.add(part);
    }
  }
  return [...words];
}
