/**
 * Run as a separate process by the store tests: tries to open (and migrate) the SQLite store at argv[2] and prints
 * `{"ok":true}` or `{"ok":false,"name":...,"message":...}` on stdout.
 */
import { openStore } from '../../../src/store/open-store.js';

const path = process.argv[2] ?? '';

async function main(): Promise<void> {
  try {
    const store = await openStore({ kind: 'sqlite', path, lockTimeoutMs: 100 });
    await store.migrate();
    await store.close();
    process.stdout.write(JSON.stringify({ ok: true }));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stdout.write(JSON.stringify({ ok: false, name: e.name, message: e.message }));
  }
}

await main();
