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
    return (await this.membership(client, audience, userId)) === 'member';
  }

  /**
   * Whether a Slack user belongs to an audience, and `unknown` when they were not found in it but a user group of it
   * could not be read (`missing_scope`, Slack not answering): what they are told can then say so, rather than that they
   * are not in it. (`includes` counts that as not a member: nobody is let in by mistake.)
   */
  async membership(
    client: webApi.WebClient,
    audience: Audience,
    userId: string,
  ): Promise<'member' | 'not_member' | 'unknown'> {
    if (audience.users.includes(userId)) return 'member';
    let unread = false;
    for (const group of audience.groups) {
      const members = await this.members(client, group);
      if (members === undefined) unread = true;
      else if (members.has(userId)) return 'member';
    }
    return unread ? 'unknown' : 'not_member';
  }

  /**
   * Whether the audience holds someone besides `userId`. A group that cannot be read counts as holding someone: this
   * is asked before telling a requester that nobody else may approve their call, which must not be said by mistake.
   */
  async hasOtherThan(client: webApi.WebClient, audience: Audience, userId: string): Promise<boolean> {
    if (audience.users.some((u) => u !== userId)) return true;
    for (const group of audience.groups) {
      const members = await this.members(client, group);
      if (members === undefined || [...members].some((u) => u !== userId)) return true;
    }
    return false;
  }

  /** A group's members; undefined when it cannot be read and was never read before (an older answer is used then). */
  private async members(client: webApi.WebClient, group: string): Promise<Set<string> | undefined> {
    const cached = this.cache.get(group);
    if (cached && cached.expires > this.now()) return cached.members;
    try {
      const answer = await client.usergroups.users.list({ usergroup: group });
      const members = new Set(answer.users ?? []);
      this.cache.set(group, { members, expires: this.now() + this.ttlMs });
      return members;
    } catch (err) {
      // Not cached: asked again next time. Nobody is let in by mistake: `includes` counts it as empty.
      this.logger.warn('could not read a user group', { group, error: err });
      return cached?.members;
    }
  }
}

/** How an audience is named in a message: mentions of its users and groups. */
export function mentionAudience(audience: Audience): string {
  return [...audience.users.map((u) => `<@${u}>`), ...audience.groups.map((g) => `<!subteam^${g}>`)].join(
    ', ',
  );
}
