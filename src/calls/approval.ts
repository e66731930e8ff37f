import type { When } from './when.js';

/**
 * Which calls need a manager's approval: none (`off`), all (`always`), only those for later (`scheduled`), or all but
 * those of the exempt people (`unlisted`).
 */
export type ApprovalMode = 'off' | 'always' | 'scheduled' | 'unlisted';

export const APPROVAL_MODES: readonly ApprovalMode[] = ['off', 'always', 'scheduled', 'unlisted'];

/** A set of Slack users and user groups (approvers, exempt people). */
export interface Audience {
  users: string[];
  groups: string[];
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;

/** Parses `U123,S456 W789` (commas or spaces). Returns the audience and what could not be read. */
export function parseAudience(text: string): { audience: Audience; problems: string[] } {
  const audience: Audience = { users: [], groups: [] };
  const problems: string[] = [];
  for (const raw of text.split(/[\s,]+/)) {
    const id = raw
      .trim()
      .replace(/^<[@!](?:subteam\^)?/, '')
      .replace(/[|>].*$/, '');
    if (!id) continue;
    if (USER_ID.test(id)) {
      if (!audience.users.includes(id)) audience.users.push(id);
    } else if (GROUP_ID.test(id)) {
      if (!audience.groups.includes(id)) audience.groups.push(id);
    } else {
      problems.push(`"${raw}" is not a Slack user id (U…/W…) or user group id (S…)`);
    }
  }
  return { audience, problems };
}

export function isEmptyAudience(audience: Audience): boolean {
  return audience.users.length === 0 && audience.groups.length === 0;
}

/**
 * Whether a call needs approval. `isExempt` is asked only in `unlisted` mode (it may look up user groups).
 */
export async function needsApproval(
  mode: ApprovalMode,
  when: When,
  isExempt: () => Promise<boolean>,
): Promise<boolean> {
  switch (mode) {
    case 'off':
      return false;
    case 'always':
      return true;
    case 'scheduled':
      return when.kind === 'scheduled';
    case 'unlisted':
      return !(await isExempt());
  }
}

/** Why a pending request cannot be approved any more, if it cannot. */
export function approvalExpiry(
  expiresAt: number | undefined,
  when: When,
  now: number,
): 'ttl' | 'time_passed' | undefined {
  if (expiresAt !== undefined && expiresAt <= now) return 'ttl';
  if (when.kind === 'scheduled' && when.at.getTime() <= now) return 'time_passed';
  return undefined;
}
