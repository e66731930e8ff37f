import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server for tests, when there is one (`.ci/run` sets it); tests that need it are skipped otherwise. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

export interface FreshSchema {
  /** A connection URL whose search_path is the fresh schema. */
  url: string;
  drop(): Promise<void>;
}

/** A new, empty schema in the test database, so that each test starts from nothing and leaves nothing behind. */
export async function freshPostgresSchema(): Promise<FreshSchema> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `iqra_it_${randomBytes(5).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE SCHEMA ${schema}`);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), drop: () => run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}
