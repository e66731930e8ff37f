import { type CallingWindow, checkCallingWindow, describeWindow } from '../calls/calling-hours.js';
import type { RecipientZones } from '../calls/recipient-zones.js';
import type { When } from '../calls/when.js';
import { describeInZone } from '../calls/when.js';
import type { GuardStore } from '../store/store.js';

/** Which guard stopped a call. */
/** `approver`: the call needs approval and nobody but its requester may give it. */
export type Guard = 'who' | 'channel' | 'dnc' | 'hours' | 'limit' | 'force' | 'approver';

export interface GuardRefusal {
  guard: Guard;
  /** For the requester: why, and what to do next. */
  message: string;
  /** Calling hours: the next time the call may start (for a one-click "Schedule for <that time>"). */
  nextAllowed?: Date;
  /** That time is further ahead than a call may be scheduled (CALL_MAX_SCHEDULE_DAYS): no button offers it. */
  nextAllowedTooFar?: boolean;
  /** For the audit log. */
  detail: Record<string, unknown>;
}

/** What the guards look at. */
export interface GuardedCall {
  requestId: string;
  teamId: string;
  channelId: string;
  userId: string;
  recipient: { e164: string; display: string };
  when: When;
  force?: boolean;
}

/**
 * Whether a user may place calls: `unknown` when it could not be checked (a user group in CALL_ALLOWED_USERS could not
 * be read, and the user was not found among the allowed otherwise). A call is refused then too, saying why.
 */
export type MayCall = 'allowed' | 'not_allowed' | 'unknown';

export interface CallGuardsDeps {
  store: GuardStore;
  /** May this user place calls (CALL_ALLOWED_USERS, with user groups; everyone when unset)? */
  mayCall: (userId: string) => Promise<MayCall>;
  isAdmin: (userId: string) => Promise<boolean>;
  /** Channels calls may be placed from; empty = any. */
  allowedChannels: readonly string[];
  /** Who to ask, as mentions (the admins). */
  askWhom: string;
  window: CallingWindow;
  zonesOf: (e164: string) => Promise<RecipientZones>;
  limits: { perUserPerHour: number; perWorkspacePerHour: number };
  /** How far ahead a call may be scheduled (CALL_MAX_SCHEDULE_DAYS); unset: no limit here. */
  maxScheduleDays?: number;
  now: () => Date;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

function dateToken(at: Date): string {
  return `<!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} at {time}|${at.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}

/**
 * The checks every call passes before it is sent, whatever its entry point: who may call, from which channel, the
 * do-not-call list, calling hours in the recipient's zone, and the hourly limits. `stage` says when: `request` (all
 * of them, once; the limits are counted here) or `approval` (what may have changed while the call waited: the list
 * and the calling hours).
 */
export class CallGuards {
  constructor(private readonly deps: CallGuardsDeps) {}

  /** The first guard that stops the call, and whether `force` let it through calling hours. */
  async check(
    call: GuardedCall,
    stage: 'request' | 'approval',
  ): Promise<{ refusal?: GuardRefusal; overridden?: 'hours' }> {
    const refusal = await this.firstRefusal(call, stage);
    if (refusal) return { refusal };
    if (call.force && (await this.outsideHours(call))) return { overridden: 'hours' };
    return {};
  }

  /**
   * Who may call and from where (the first two guards): for a batch, checked once for the whole list before it is
   * previewed. The message, or undefined when allowed.
   */
  async requesterRefusal(userId: string, channelId: string): Promise<GuardRefusal | undefined> {
    const who = await this.firstRefusal(
      {
        requestId: '',
        teamId: '',
        channelId,
        userId,
        recipient: { e164: '', display: '' },
        when: { kind: 'now' },
      },
      'who',
    );
    return who;
  }

  /** Calling hours alone (for a batch's preview, row by row): the refusal, or undefined when within hours. */
  async callingHours(call: GuardedCall): Promise<GuardRefusal | undefined> {
    return this.hours(call);
  }

  /** The hourly limits (0: none). */
  get limits(): { perUserPerHour: number; perWorkspacePerHour: number } {
    return this.deps.limits;
  }

  private async outsideHours(call: GuardedCall): Promise<boolean> {
    const startAt = call.when.kind === 'scheduled' ? call.when.at : this.deps.now();
    const zones = await this.deps.zonesOf(call.recipient.e164);
    return !checkCallingWindow(startAt, zones.zones, this.deps.window).ok;
  }

  private async firstRefusal(
    call: GuardedCall,
    stage: 'request' | 'approval' | 'who',
  ): Promise<GuardRefusal | undefined> {
    const { deps } = this;
    if (stage === 'request' || stage === 'who') {
      const may = await deps.mayCall(call.userId);
      if (may === 'unknown') {
        return {
          guard: 'who',
          message: `I couldn't check with Slack whether you may place calls: CALL_ALLOWED_USERS names a user group whose members could not be read. Nothing was placed. Try again in a few minutes; if it keeps happening, ask an admin (${deps.askWhom}) to look at the app's log ("could not read a user group"): the app may lack the \`usergroups:read\` scope, or Slack may not be answering.`,
          detail: { reason: 'could not read a user group' },
        };
      }
      if (may === 'not_allowed') {
        return {
          guard: 'who',
          message: `You're not among the people who may place calls with this app. Ask an admin (${deps.askWhom}) to add you to CALL_ALLOWED_USERS.`,
          detail: {},
        };
      }
      if (deps.allowedChannels.length > 0 && !deps.allowedChannels.includes(call.channelId)) {
        return {
          guard: 'channel',
          message: `Calls can't be placed from this channel. Use ${deps.allowedChannels.map((c) => `<#${c}>`).join(', ')}, or ask an admin (${deps.askWhom}) to allow this one.`,
          detail: {},
        };
      }
      if (stage === 'who') return undefined;
    }
    const listed = await deps.store.findDnc(call.teamId, call.recipient.e164);
    if (listed) {
      const admin = await deps.isAdmin(call.userId);
      return {
        guard: 'dnc',
        message: `${call.recipient.display} is on the do-not-call list, so I won't call it.${admin && listed.reason ? ` Reason given: ${listed.reason}.` : ''} If that's a mistake, ${admin ? 'remove it with `/call dnc remove`' : `ask an admin (${deps.askWhom})`}.`,
        detail: { listedBy: listed.addedBy },
      };
    }
    const hours = await this.hours(call);
    if (hours) return hours;
    if (stage === 'request') {
      const quota = await deps.store.claimQuota(
        [
          { key: `user:${call.teamId}:${call.userId}`, limit: deps.limits.perUserPerHour },
          { key: `team:${call.teamId}`, limit: deps.limits.perWorkspacePerHour },
        ],
        HOUR,
        deps.now().getTime(),
        call.requestId,
      );
      if (!quota.ok) {
        // Asked for, not placed: a request waiting for approval counts too (one that ended without a call is given back).
        const who = quota.key.startsWith('user:') ? 'You have' : 'People in this workspace have';
        const setting = quota.key.startsWith('user:')
          ? 'CALL_LIMIT_PER_USER_PER_HOUR'
          : 'CALL_LIMIT_PER_WORKSPACE_PER_HOUR';
        return {
          guard: 'limit',
          // Slack shows the time to the minute: the minute after the place frees up, not the one it frees up in (the
          // rep who tries at the minute shown must not be refused again).
          message: `${who} asked for ${quota.limit} call${quota.limit === 1 ? '' : 's'} in the last hour, the most allowed (${setting}). The next call is possible ${dateToken(new Date(Math.ceil(quota.retryAt / MINUTE) * MINUTE))}.`,
          detail: { scope: quota.key.split(':')[0], limit: quota.limit, retryAt: quota.retryAt },
        };
      }
    }
    return undefined;
  }

  private async hours(call: GuardedCall): Promise<GuardRefusal | undefined> {
    const { deps } = this;
    const now = deps.now();
    const startAt = call.when.kind === 'scheduled' ? call.when.at : now;
    const zones = await deps.zonesOf(call.recipient.e164);
    const check = checkCallingWindow(startAt, zones.zones, deps.window);
    if (check.ok) return undefined;
    const forced = call.force === true;
    if (forced && (await deps.isAdmin(call.userId))) return undefined;
    const local = check.localTimes.map((t) => `${t.at} in ${t.zone}`).join(', ');
    const uncertain = check.uncertain
      ? ` This number may be in any of ${zones.zones.length} time zones, so I used the strictest reading: the call must be within calling hours in all of them.`
      : '';
    const tooFar =
      check.nextAllowed !== undefined &&
      deps.maxScheduleDays !== undefined &&
      check.nextAllowed.getTime() - now.getTime() > deps.maxScheduleDays * 24 * HOUR;
    const next = check.nextAllowed
      ? ` The next allowed time is ${dateToken(check.nextAllowed)} (${describeInZone(check.nextAllowed, zones.zones[0] ?? 'UTC')})${
          tooFar
            ? `, further ahead than a call may be scheduled (${deps.maxScheduleDays} day${deps.maxScheduleDays === 1 ? '' : 's'}, CALL_MAX_SCHEDULE_DAYS): place it nearer that time`
            : ''
        }.`
      : ` There is no time in the next two weeks that is within calling hours in all its possible zones; an admin can place it with \`force\`.`;
    const outside = `${call.when.kind === 'scheduled' ? 'That time' : 'Now'} is outside calling hours (${describeWindow(deps.window)}) for ${call.recipient.display}: it is ${local}.${uncertain}${next}`;
    return {
      // A rep who wrote `force` is told that only admins may, and also what anyone is told: when the call may be
      // placed, with the same one-click "Schedule for <that time>".
      ...(forced
        ? {
            guard: 'force' as const,
            message: `Only admins (${deps.askWhom}) can place a call outside calling hours with \`force\`. ${outside}`,
          }
        : { guard: 'hours' as const, message: outside }),
      ...(check.nextAllowed ? { nextAllowed: check.nextAllowed } : {}),
      ...(tooFar ? { nextAllowedTooFar: true } : {}),
      detail: { zones: zones.zones, uncertain: check.uncertain },
    };
  }
}
