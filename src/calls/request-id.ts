import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32: no i, l, o, u

/** A short id a rep can read out to support: `req_` and 12 base32 characters (60 random bits). */
export function newRequestId(): string {
  const bytes = randomBytes(12);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return `req_${id}`;
}
