import type { webApi } from '@slack/bolt';
import type { Logger } from '../log.js';

export interface UserZone {
  timeZone: string;
  /** `slack`: the user's own zone from their Slack profile; `default`: DEFAULT_TIMEZONE, since Slack had none. */
  source: 'slack' | 'default';
}

/**
 * Each requester's time zone from `users.info` (`user.tz`), cached for an hour. When Slack cannot tell, the
 * configured default zone is used and the answer says so.
 */
export class UserZones {
  private readonly cache = new Map<string, { zone: UserZone; expires: number }>();
  private readonly pending = new Map<string, Promise<UserZone>>();

  constructor(
    private readonly defaultTimeZone: string,
    private readonly logger: Logger,
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  async zoneOf(client: webApi.WebClient, userId: string): Promise<UserZone> {
    const cached = this.cache.get(userId);
    if (cached && cached.expires > this.now()) return cached.zone;
    let lookup = this.pending.get(userId);
    if (!lookup) {
      lookup = this.lookUp(client, userId).finally(() => this.pending.delete(userId));
      this.pending.set(userId, lookup);
    }
    return lookup;
  }

  private async lookUp(client: webApi.WebClient, userId: string): Promise<UserZone> {
    try {
      const answer = await client.users.info({ user: userId });
      const tz = answer.user?.tz;
      const zone: UserZone =
        typeof tz === 'string' && tz.length > 0
          ? { timeZone: tz, source: 'slack' }
          : { timeZone: this.defaultTimeZone, source: 'default' };
      this.cache.set(userId, { zone, expires: this.now() + this.ttlMs });
      return zone;
    } catch (err) {
      // Not cached: the next request tries Slack again.
      this.logger.warn('could not read the user time zone; using the default', { userId, error: err });
      return { timeZone: this.defaultTimeZone, source: 'default' };
    }
  }
}
