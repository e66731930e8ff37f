import { CallRequestError } from './errors.js';

/** One configured Iqra thing (agent, caller-ID number or campaign) under the short name reps type. */
export interface DirectoryEntry {
  alias: string;
  id: string;
}

export type DirectoryKind = 'agent' | 'number' | 'campaign';

const KEY_FOR: Record<DirectoryKind, string> = { agent: 'agent', number: 'from', campaign: 'campaign' };
const FIELD_FOR = { agent: 'agent', number: 'from', campaign: 'campaign' } as const;
const ALIAS = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/**
 * Parses `alias=Id,alias2=Id2`. Returns the entries and a list of problems (empty when all is well), so that the
 * settings check can report every problem at once.
 */
export function parseAliasList(text: string): { entries: DirectoryEntry[]; problems: string[] } {
  const entries: DirectoryEntry[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      problems.push(`"${item}" is not alias=Id (write it like sales=6650f0c2a1b2c3d4e5f60718)`);
      continue;
    }
    const alias = item.slice(0, eq).trim();
    const id = item.slice(eq + 1).trim();
    if (!ALIAS.test(alias)) {
      problems.push(
        `alias "${alias}" may use only letters, digits, "_", "-" and "." (and at most 40 of them)`,
      );
      continue;
    }
    if (/[\s,=]/.test(id)) {
      problems.push(`the id for "${alias}" contains a space or "=": "${id}"`);
      continue;
    }
    if (entries.some((e) => e.alias.toLowerCase() === alias.toLowerCase())) {
      problems.push(`alias "${alias}" is listed twice`);
      continue;
    }
    entries.push({ alias, id });
  }
  return { entries, problems };
}

/** The configured agents, numbers or campaigns, looked up by alias (any case) or by id. */
export class Directory {
  constructor(
    readonly kind: DirectoryKind,
    readonly entries: readonly DirectoryEntry[],
    /** The entry used when the request names none (the configured default, or the only agent or number). */
    readonly fallback: DirectoryEntry | undefined,
  ) {}

  find(nameOrId: string): DirectoryEntry | undefined {
    const wanted = nameOrId.trim().toLowerCase();
    return (
      this.entries.find((e) => e.alias.toLowerCase() === wanted) ??
      this.entries.find((e) => e.id === nameOrId.trim())
    );
  }

  /** The aliases as reps should type them, for help texts and error messages. */
  describeAliases(): string {
    if (this.entries.length === 0) return `no ${this.kind}s are configured`;
    return this.entries.map((e) => `\`${e.alias}\``).join(', ');
  }

  /** Resolves what the rep typed; throws a CallRequestError that lists the configured aliases when unknown. */
  resolve(nameOrId: string): DirectoryEntry {
    const entry = this.find(nameOrId);
    if (entry) return entry;
    const key = KEY_FOR[this.kind];
    const example = this.entries[0] ? ` Example: \`${key}=${this.entries[0].alias}\`.` : '';
    throw new CallRequestError(
      FIELD_FOR[this.kind],
      `I don't know the ${this.kind} “${nameOrId}”. Configured: ${this.describeAliases()}.${example}`,
    );
  }
}
