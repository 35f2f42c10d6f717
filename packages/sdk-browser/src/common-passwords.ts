import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * How many of zxcvbn-ts's common passwords the SDK ships, most common first. The whole list
 * (49,233 entries) is about 200 KB gzipped, over three times the SDK's 60 KB budget by itself; the
 * first 4,000 hold the passwords people reuse most and cost about 16 KB. The package's diceware
 * word list is not shipped either. A password past the kept ones is no longer recognised as a
 * common one: zxcvbn then scores it by its structure (keyboard walks, sequences, dates, repeats) or
 * as brute force, so its score can only come out higher than with the whole list.
 */
export const COMMON_PASSWORDS_KEPT = 4000;

/**
 * The list, in zxcvbn's rank order so a kept password keeps its rank. The bundle does not carry
 * the whole list and slice it: build.mjs replaces this module by the kept entries alone.
 */
export const COMMON_PASSWORDS: readonly string[] = dictionary['passwords-common'].slice(
  0,
  COMMON_PASSWORDS_KEPT,
);
