/**
 * Unicode format characters (category Cf): invisible, but contact cards, Outlook and right-to-left text put them
 * around or inside what they copy (direction marks and isolates such as U+202A…U+202C, U+200E, U+2066…U+2069,
 * zero-width spaces, byte-order marks). Pasted with a number, they made it unreadable, and a message quoting it showed
 * them invisibly.
 */
const FORMAT_CHARACTERS = /\p{Cf}/gu;

export function withoutFormatCharacters(text: string): string {
  return text.replace(FORMAT_CHARACTERS, '');
}
