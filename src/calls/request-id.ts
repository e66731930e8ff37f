import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32: no i, l, o, u

/** A short id a rep can read out to support: `req_` and 12 base32 characters (60 random bits). */
export function newRequestId(): string {
  const bytes = randomBytes(12);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return `req_${id}`;
}

/** A batch's id, as readable as a request's: `bat_` and 10 base32 characters (50 random bits). */
export function newBatchId(): string {
  const bytes = randomBytes(10);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % 32];
  return `bat_${id}`;
}
