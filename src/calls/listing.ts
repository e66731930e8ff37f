/** `a`, `a and b`, `a, b and c` (or with `or`): items joined as a sentence lists them. */
export function listWords(items: readonly string[], conjunction: 'and' | 'or' = 'and'): string {
  return items.length <= 1
    ? (items[0] ?? '')
    : `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}
