/** Reading Iqra's JSON leniently: keys in any casing (camelCase, PascalCase, snake_case), `null` as absent. */

export type Fields = (...names: string[]) => unknown;

/** A lookup of an object's keys that ignores case, `_` and `-`; `null` reads as absent. `undefined` for a non-object. */
export function fieldsOf(value: unknown): Fields | undefined {
  if (!isRecord(value)) return undefined;
  const byKey = new Map<string, unknown>();
  for (const [key, v] of Object.entries(value)) {
    const k = normalizeKey(key);
    if (!byKey.has(k) || byKey.get(k) === null) byKey.set(k, v);
  }
  return (...names) => {
    for (const name of names) {
      const v = byKey.get(normalizeKey(name));
      if (v !== undefined && v !== null) return v;
    }
    return undefined;
  };
}

export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An id written as a string, a number, or MongoDB extended JSON (`{"$oid": "…"}`). */
export function readId(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (isRecord(value) && typeof value.$oid === 'string') return value.$oid.trim() || undefined;
  return undefined;
}
