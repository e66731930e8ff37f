import type { webApi } from '@slack/bolt';
import type { Audience } from '../calls/approval.js';
import type { Logger } from '../log.js';

/**
 * Whether a Slack user belongs to an audience (approvers, exempt people): listed by id, or a member of a listed user
 * group. Group members come from `usergroups.users.list` (scope usergroups:read), cached for five minutes.
 */
export class Audiences {
  private readonly cache = new Map<string, { members: Set<string>; expires: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly ttlMs = 5 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async includes(client: webApi.WebClient, audience: Audience, userId: string): Promise<boolean> {
    if (audience.users.includes(userId)) return true;
    for (const group of audience.groups) {
      if ((await this.members(client, group)).has(userId)) return true;
    }
    return false;
  }

  /**
   * Whether the audience holds someone besides `userId`. A group that cannot be read counts as holding someone: this
   * is asked before telling a requester that nobody else may approve their call, which must not be said by mistake.
   */
  async hasOtherThan(client: webApi.WebClient, audience: Audience, userId: string): Promise<boolean> {
    if (audience.users.some((u) => u !== userId)) return true;
    for (const group of audience.groups) {
      const members = await this.members(client, group, true);
      if (members === undefined || [...members].some((u) => u !== userId)) return true;
    }
    return false;
  }

  private async members(client: webApi.WebClient, group: string): Promise<Set<string>>;
  private async members(
    client: webApi.WebClient,
    group: string,
    unknownOnFailure: true,
  ): Promise<Set<string> | undefined>;
  private async members(
    client: webApi.WebClient,
    group: string,
    unknownOnFailure = false,
  ): Promise<Set<string> | undefined> {
    const cached = this.cache.get(group);
    if (cached && cached.expires > this.now()) return cached.members;
    try {
      const answer = await client.usergroups.users.list({ usergroup: group });
      const members = new Set(answer.users ?? []);
      this.cache.set(group, { members, expires: this.now() + this.ttlMs });
      return members;
    } catch (err) {
      // Not cached: a group that cannot be read counts as empty this time (nobody is let in by mistake).
      this.logger.warn('could not read a user group', { group, error: err });
      return cached?.members ?? (unknownOnFailure ? undefined : new Set());
    }
  }
}

/** How an audience is named in a message: mentions of its users and groups. */
export function mentionAudience(audience: Audience): string {
  return [...audience.users.map((u) => `<@${u}>`), ...audience.groups.map((g) => `<!subteam^${g}>`)].join(
    ', ',
  );
}
