import type { RatesPort } from '@warden/engine';

/**
 * Shipped default exchange rates: units of EUR for one unit of each currency. They are an
 * approximate snapshot (late 2025), good enough to put amounts on one scale for features and rules,
 * not for accounting. Operators replace them with current rates (the enrichment issue adds
 * `warden data import fx`).
 */
export const DEFAULT_EUR_RATES: Readonly<Record<string, number>> = {
  EUR: 1,
  USD: 0.86,
  GBP: 1.14,
  CHF: 1.07,
  JPY: 0.0057,
  CNY: 0.12,
  CAD: 0.62,
  AUD: 0.56,
  NZD: 0.49,
  SEK: 0.091,
  NOK: 0.085,
  DKK: 0.134,
  PLN: 0.235,
  CZK: 0.041,
  HUF: 0.0026,
  RON: 0.197,
  BGN: 0.511,
  TRY: 0.0205,
  INR: 0.0098,
  BRL: 0.16,
  MXN: 0.047,
  ZAR: 0.05,
  SGD: 0.66,
  HKD: 0.11,
  KRW: 0.0006,
  AED: 0.234,
  SAR: 0.229,
  ILS: 0.26,
  MAD: 0.093,
};

/** Rates whose table an import can replace while Warden runs (`warden data import fx-rates`). */
export interface SwappableRates extends RatesPort {
  replace(eurRates: Readonly<Record<string, number>>): void;
}

export function createRates(referenceCurrency: string, eurRates = DEFAULT_EUR_RATES): SwappableRates {
  let table = eurRates;
  return {
    referenceCurrency,
    rate(currency) {
      const inEur = table[currency];
      const referenceInEur = table[referenceCurrency];
      if (inEur === undefined || referenceInEur === undefined) return undefined;
      return inEur / referenceInEur;
    },
    replace(next) {
      table = next;
    },
  };
}
