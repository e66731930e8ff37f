/**
 * The store's schema, as versioned migrations for Kysely's `Migrator`. One schema for SQLite and PostgreSQL, written
 * with the dialect-neutral schema builder; the only dialect-specific bit is how an auto-increment key is declared.
 * Timestamps are `bigint` epoch milliseconds; JSON values are `text`. Never edit a migration that has shipped: add one.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';

export type StoreKind = 'sqlite' | 'postgres';

/** The database as the migrations see it: no table types yet. */
type AnyDb = Kysely<unknown>;

/** An auto-increment integer primary key: `integer primary key autoincrement` on SQLite, `bigserial` on PostgreSQL. */
function idType(kind: StoreKind): 'bigserial' | 'integer' {
  return kind === 'postgres' ? 'bigserial' : 'integer';
}

function buildMigrations(kind: StoreKind): Record<string, Migration> {
  return {
    '0001_calls': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('call_requests')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('entry_point', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('thread_ts', 'text')
          .addColumn('parent_ts', 'text')
          .addColumn('response_url', 'text')
          .addColumn('retry_of', 'text')
          .addColumn('request', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('agent_alias', 'text', (c) => c.notNull())
          .addColumn('queue_ids', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('iqra_code', 'text')
          .addColumn('iqra_message', 'text')
          .addColumn('outcome_reason', 'text')
          .addColumn('user_message', 'text')
          .addColumn('http_status', 'integer')
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('call_requests_requester')
          .on('call_requests')
          .columns(['team_id', 'user_id', 'created_at'])
          .execute();
        await db.schema.createIndex('call_requests_state').on('call_requests').column('state').execute();

        await db.schema
          .createTable('call_transitions')
          .addColumn('id', idType(kind), (c) =>
            kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('request_id', 'text', (c) =>
            c.notNull().references('call_requests.id').onDelete('cascade'),
          )
          .addColumn('from_state', 'text')
          .addColumn('to_state', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull().defaultTo('{}'))
          .execute();
        await db.schema
          .createIndex('call_transitions_request')
          .on('call_transitions')
          .column('request_id')
          .execute();

        await db.schema
          .createTable('call_queue_ids')
          .addColumn('queue_id', 'text', (c) => c.primaryKey())
          .addColumn('request_id', 'text', (c) =>
            c.notNull().references('call_requests.id').onDelete('cascade'),
          )
          .execute();
        await db.schema
          .createIndex('call_queue_ids_request')
          .on('call_queue_ids')
          .column('request_id')
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('call_queue_ids').execute();
        await db.schema.dropTable('call_transitions').execute();
        await db.schema.dropTable('call_requests').execute();
      },
    },

    '0002_intents': {
      async up(db: AnyDb) {
        // No foreign key on request_id: an intent is claimed before its call is recorded, and some intents record
        // no call at all.
        await db.schema
          .createTable('intents')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('request_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('intents').execute();
      },
    },

    '0003_instances': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('instances')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('instances').execute();
      },
    },

    '0004_slack_jobs': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('slack_jobs')
          .addColumn('id', idType(kind), (c) =>
            kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('run_at', 'bigint', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('slack_jobs_due').on('slack_jobs').columns(['state', 'run_at']).execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('slack_jobs').execute();
      },
    },

    '0006_tracking': {
      async up(db: AnyDb) {
        for (const [name, type] of [
          ['progress', 'text'],
          ['call_end', 'text'],
          ['session_id', 'text'],
          ['duration_seconds', 'integer'],
          ['track_at', 'bigint'],
          ['track_unchanged', 'integer'],
          ['tracked_at', 'bigint'],
        ] as const) {
          await db.schema.alterTable('call_requests').addColumn(name, type).execute();
        }
        await db.schema
          .createIndex('call_requests_track')
          .on('call_requests')
          .columns(['state', 'track_at'])
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropIndex('call_requests_track').execute();
        for (const name of [
          'progress',
          'call_end',
          'session_id',
          'duration_seconds',
          'track_at',
          'track_unchanged',
          'tracked_at',
        ]) {
          await db.schema.alterTable('call_requests').dropColumn(name).execute();
        }
      },
    },

    '0007_guards': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('dnc_numbers')
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('e164', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('added_by', 'text', (c) => c.notNull())
          .addColumn('added_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('dnc_numbers_pk', ['team_id', 'e164'])
          .execute();
        await db.schema
          .createTable('audit_log')
          .addColumn('id', idType(kind), (c) =>
            kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('target', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_log_team_at').on('audit_log').columns(['team_id', 'at']).execute();
        await db.schema
          .createTable('quota_uses')
          .addColumn('id', idType(kind), (c) =>
            kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('scope_key', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('request_id', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('quota_uses_scope_at')
          .on('quota_uses')
          .columns(['scope_key', 'at'])
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropTable('quota_uses').execute();
        await db.schema.dropTable('audit_log').execute();
        await db.schema.dropTable('dnc_numbers').execute();
      },
    },

    '0005_approvals': {
      async up(db: AnyDb) {
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        for (const [name, type] of [
          ['approval_channel', 'text'],
          ['approval_ts', 'text'],
          ['decided_by', 'text'],
          ['decided_at', 'bigint'],
          ['decision_reason', 'text'],
          ['expires_at', 'bigint'],
        ] as const) {
          await db.schema.alterTable('call_requests').addColumn(name, type).execute();
        }
        await db.schema
          .createIndex('call_requests_state_expires')
          .on('call_requests')
          .columns(['state', 'expires_at'])
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropIndex('call_requests_state_expires').execute();
        for (const name of [
          'approval_channel',
          'approval_ts',
          'decided_by',
          'decided_at',
          'decision_reason',
          'expires_at',
        ]) {
          await db.schema.alterTable('call_requests').dropColumn(name).execute();
        }
      },
    },

    '0008_batches': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('batches')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('team_id', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('rows', 'text', (c) => c.notNull())
          .addColumn('total', 'integer', (c) => c.notNull())
          .addColumn('parent_ts', 'text')
          .addColumn('approval_channel', 'text')
          .addColumn('approval_ts', 'text')
          .addColumn('decided_by', 'text')
          .addColumn('decided_at', 'bigint')
          .addColumn('decision_reason', 'text')
          .addColumn('expires_at', 'bigint')
          .addColumn('next_at', 'bigint')
          .addColumn('held_reason', 'text')
          .addColumn('stopped_by', 'text')
          .addColumn('finished_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('batches_state').on('batches').columns(['state']).execute();
        await db.schema
          .createIndex('batches_team_user_created')
          .on('batches')
          .columns(['team_id', 'user_id', 'created_at'])
          .execute();
        await db.schema.alterTable('call_requests').addColumn('batch_id', 'text').execute();
        await db.schema.alterTable('call_requests').addColumn('batch_line', 'integer').execute();
        await db.schema
          .createIndex('call_requests_batch')
          .on('call_requests')
          .columns(['batch_id', 'state', 'batch_line'])
          .execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropIndex('call_requests_batch').execute();
        await db.schema.alterTable('call_requests').dropColumn('batch_line').execute();
        await db.schema.alterTable('call_requests').dropColumn('batch_id').execute();
        await db.schema.dropTable('batches').execute();
      },
    },
    // A request's uses of the hourly limits, found by the request: whether it already counts (two replicas checking
    // one request), and what to give back when it ends without a call. Without it, both read every use of the hour.
    '0009_quota_uses_request': {
      async up(db: AnyDb) {
        await db.schema.createIndex('quota_uses_request').on('quota_uses').columns(['request_id']).execute();
      },
      async down(db: AnyDb) {
        await db.schema.dropIndex('quota_uses_request').execute();
      },
    },
  };
}

/** The names of all migrations, in the order they apply. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(buildMigrations('sqlite')).sort();

/** The latest migration this code knows. */
export const LATEST_MIGRATION: string = MIGRATION_NAMES[MIGRATION_NAMES.length - 1] ?? '';

/** An inline provider (no migration files to ship next to the build). */
export class StoreMigrationProvider implements MigrationProvider {
  constructor(private readonly kind: StoreKind) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return buildMigrations(this.kind);
  }
}
