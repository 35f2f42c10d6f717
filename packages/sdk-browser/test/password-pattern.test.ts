import { describe, expect, it } from 'vitest';
import { expandUserInputs, passwordPattern } from '../src/password-pattern.js';

/**
 * Guarantee protected here: the pattern Warden receives describes how the password was made, and
 * the strength fits the contract, with the trimmed dictionary the bundle ships.
 */

describe('passwordPattern', () => {
  it.each([
    ['password123', 'dictionary'],
    ['iloveyou', 'dictionary'],
    ['P@ssw0rd!', 'dictionary'],
    ['qwertyuiop', 'keyboard'],
    ['1qaz2wsx', 'keyboard'],
    ['abcdefgh1234', 'sequence'],
    ['aaaaaaaaaa', 'repeat'],
    ['01011990', 'date'],
    ['x7Kp2Qz9LmR4tWv8Ny3B', 'generated'],
    ['Kx9#mP2$vL8@nQ4&', 'generated'],
    ['abc', 'short'],
    ['Passw0r', 'short'],
  ])('%s is %s', (password, pattern) => {
    expect(passwordPattern(password).pattern).toBe(pattern);
  });

  it('calls Tr0ub4dor&3 mixed: the trimmed list has no English words, and 11 characters is short of generated', () => {
    expect(passwordPattern('Tr0ub4dor&3').pattern).toBe('mixed');
  });

  it('scores common passwords weak and random ones strong', () => {
    expect(passwordPattern('password123')).toMatchObject({ score: 0 });
    expect(passwordPattern('x7Kp2Qz9LmR4tWv8Ny3B')).toMatchObject({ score: 4, guesses_log10: 20 });
  });

  it('is personal when it is built on what the page knows of the user', () => {
    const inputs = ['Ana Garcia', 'ana.garcia@example.com'];
    expect(passwordPattern('garcia1987', inputs).pattern).toBe('personal');
    expect(passwordPattern('anagarcia!!', inputs).pattern).toBe('personal');
    expect(passwordPattern('x7Kp2Qz9LmR4tWv8Ny3B', inputs).pattern).toBe('generated');
  });

  it('keeps guesses_log10 within the contract for very long passwords', () => {
    const result = passwordPattern('Zq7!'.repeat(10) + 'x8K#pL2vM9@nR4tW'.repeat(10));
    expect(result.guesses_log10).toBeLessThanOrEqual(100);
    expect(result.guesses_log10).toBeGreaterThanOrEqual(0);
  });
});

describe('expandUserInputs', () => {
  it('adds the parts of names and emails, lowercased, of 3 characters or more', () => {
    expect(expandUserInputs(['Ana Garcia', 'ana.garcia@example.com', 'Li'])).toEqual([
      'ana garcia',
      'ana',
      'garcia',
      'ana.garcia@example.com',
      'example',
      'com',
    ]);
  });
});
