import { describe, expect, it } from 'vitest';
import { countryHour, distanceKm, enrich, ipLocalHour, localHour } from './enrichment.js';
import { normaliseEvent, type RatesPort } from './normalise.js';

const rates: RatesPort = { referenceCurrency: 'EUR', rate: () => 1 };
const at = (ip: string) =>
  enrich(
    normaliseEvent(
      {
        id: 'e',
        type: 'login.succeeded',
        occurred_at: '2026-01-01T00:00:00Z',
        user: { id: 'u' },
        session: { ip },
      },
      rates,
    ),
    null,
  );

describe('enrichment without data files', () => {
  it.each([
    ['10.0.0.1', true, true],
    ['172.31.255.255', true, true],
    ['172.32.0.1', false, false],
    ['192.168.1.1', true, true],
    ['100.64.0.1', true, true],
    ['127.0.0.1', true, true],
    ['169.254.10.10', true, true],
    ['192.0.2.10', false, true],
    ['198.51.100.1', false, true],
    ['203.0.113.200', false, true],
    ['224.0.0.5', false, true],
    ['255.255.255.255', false, true],
    ['0.1.2.3', false, true],
    ['8.8.8.8', false, false],
    ['::1', true, true],
    ['fd12:3456::1', true, true],
    ['fe80::1', true, true],
    ['2001:db8::1', false, true],
    ['3fff::1', false, true],
    ['ff02::1', false, true],
    ['2a00:1450:4001::1', false, false],
    ['::ffff:10.0.0.1', true, true],
  ])('%s: private %s, bogon %s', (ip, isPrivate, bogon) => {
    const e = at(ip);
    expect(e.ipPrivate).toBe(isPrivate);
    expect(e.ipBogon).toBe(bogon);
    // Without data files nothing is looked up, and no IP fact is claimed.
    expect(e.ip).toBeNull();
  });

  it('measures great-circle distances in whole kilometres', () => {
    expect(distanceKm(51.5074, -0.1278, 48.8566, 2.3522)).toBeGreaterThan(340);
    expect(distanceKm(51.5074, -0.1278, 48.8566, 2.3522)).toBeLessThan(346);
    expect(distanceKm(0, 0, 0, 180)).toBe(20015);
    expect(distanceKm(40, -3, 40, -3)).toBe(0);
  });

  it('gives the local hour in a time zone, with summer time, and null for an unknown zone', () => {
    expect(localHour(Date.parse('2026-07-01T22:30:00Z'), 'Europe/London')).toBe(23);
    expect(localHour(Date.parse('2026-01-01T22:30:00Z'), 'Europe/London')).toBe(22);
    expect(localHour(Date.parse('2026-01-01T23:30:00Z'), 'Asia/Tokyo')).toBe(8);
    expect(localHour(Date.parse('2026-01-01T12:00:00Z'), 'Not/AZone')).toBeNull();
  });

  it("gives a country's hour when all its zones agree, and null when they do not", () => {
    const summer = Date.parse('2026-07-01T22:30:00Z');
    expect(countryHour('FR', summer)).toBe(0);
    expect(countryHour('DE', summer)).toBe(0);
    // India is UTC+5:30: the hour turns at the half hour.
    expect(countryHour('IN', Date.parse('2026-01-01T22:29:00Z'))).toBe(3);
    expect(countryHour('IN', Date.parse('2026-01-01T22:30:00Z'))).toBe(4);
    expect(countryHour('US', summer)).toBeNull();
    // The Canaries are an hour behind the mainland.
    expect(countryHour('ES', summer)).toBeNull();
    expect(countryHour('ZZ', summer)).toBeNull();
  });

  it("prefers the City database's zone, falls back on the country, and says null without either", () => {
    const at = Date.parse('2026-01-01T23:30:00Z');
    const ip = (country: string | null, timeZone: string | null) =>
      ({ country, timeZone }) as unknown as Parameters<typeof ipLocalHour>[0];
    expect(ipLocalHour(ip('US', 'America/New_York'), at)).toBe(18);
    expect(ipLocalHour(ip('JP', null), at)).toBe(8);
    expect(ipLocalHour(ip('US', null), at)).toBeNull();
    expect(ipLocalHour(ip(null, null), at)).toBeNull();
    expect(ipLocalHour(null, at)).toBeNull();
  });
});
