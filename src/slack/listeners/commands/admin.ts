import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction, webApi } from '@slack/bolt';
import type { CountryCode } from 'libphonenumber-js';
import type { Audience } from '../../../calls/approval.js';
import type { DncCommand } from '../../../calls/command.js';
import { CallRequestError } from '../../../calls/errors.js';
import { normalizeRecipient, type Recipient, splitExtension } from '../../../calls/phone.js';
import type { Logger } from '../../../log.js';
import { maskPhone } from '../../../log.js';
import type { Store } from '../../../store/store.js';
import type { Audiences } from '../../audiences.js';
import {
  auditMessage,
  DNC_IMPORT_BLOCK,
  DNC_IMPORT_INPUT,
  dncEntryLine,
  dncImportModal,
  dncImportResult,
  dncListMessage,
  plain,
} from '../../blocks/admin.js';
import type { SlackMessage } from '../../blocks/call-messages.js';
import { workspaceOf } from '../../workspace.js';

export interface AdminDeps {
  store: Store;
  audiences: Audiences;
  admins: Audience;
  /** The admins, as mentions ('' when none are configured). */
  adminMentions: string;
  defaultRegion: CountryCode;
  logger: Logger;
  now: () => Date;
}

interface Who {
  teamId: string;
  userId: string;
  client: webApi.WebClient;
}

/**
 * Why a non-admin can't do `what`. In a message the admins are named by mention; on a form (`on: 'form'`), as its
 * `errors`, which Slack shows as plain text (a mention reads `<@U0123>` there), they are not named.
 */
export function onlyAdmins(deps: AdminDeps, what: string, on: 'message' | 'form' = 'message'): string {
  if (!deps.adminMentions) {
    return `Only admins can ${what}, and none are configured: ask whoever runs the app to set CALL_ADMINS.`;
  }
  return on === 'form'
    ? `Only admins can ${what}. Ask one of them.`
    : `Only admins (${deps.adminMentions}) can ${what}.`;
}

/** A non-admin tried `action`: said in `log` and recorded in the audit log as `refused:<action>`. */
export function refusedNotAdmin(
  deps: AdminDeps,
  who: { teamId: string; userId: string },
  action: string,
  log: Logger,
): Promise<void> {
  log.warn('admin action refused: not an admin');
  return deps.store.audit({
    teamId: who.teamId,
    at: deps.now().getTime(),
    actor: who.userId,
    action: `refused:${action}`,
    detail: { reason: 'not an admin' },
  });
}

/**
 * A number as the do-not-call list keys it: its main number, without the extension written after it
 * (`+1 415 555 2671 x204`, `tel:+14155552671;ext=204`). The agent dials only the main number, so that is the number
 * a listed extension must keep from being called (and `normalizeRecipient` refuses an extension, for a call).
 */
export function dncRecipient(raw: string, region: CountryCode): Recipient & { extension?: string } {
  const split = splitExtension(raw);
  if (!split) return normalizeRecipient(raw, region);
  return { ...normalizeRecipient(split.main, region), extension: split.extension };
}

/** What an answer about a number written with an extension adds: that the list holds its main number. */
function extensionNote(recipient: { extension?: string }): string {
  return recipient.extension
    ? ` (it was written with the extension \`${recipient.extension}\`: the list holds the main number, the one calls go to)`
    : '';
}

async function isAdmin(deps: AdminDeps, who: Who): Promise<boolean> {
  return deps.audiences.includes(who.client, deps.admins, who.userId);
}

/**
 * `/call dnc add|remove|check|list|import`. Changing or listing the list is for admins; anyone may check a number
 * (without the entry's reason, unless they are an admin). Every change is written to the audit log.
 * Returns the ephemeral answer, or undefined when a modal was opened instead.
 */
export async function dncCommand(
  parsed: DncCommand,
  who: Who & { triggerId: string },
  deps: AdminDeps,
): Promise<SlackMessage | undefined> {
  const admin = await isAdmin(deps, who);
  const log = deps.logger.child({ userId: who.userId, op: parsed.op });
  if (parsed.op === 'check') {
    const recipient = dncRecipient(parsed.number, deps.defaultRegion);
    const entry = await deps.store.findDnc(who.teamId, recipient.e164);
    return plain(
      entry
        ? `${dncEntryLine(recipient.display, entry, admin)} — it is on the do-not-call list${extensionNote(recipient)}, so it won't be called.`
        : `*${recipient.display}* is not on the do-not-call list${extensionNote(recipient)}.`,
    );
  }
  if (!admin) {
    await refusedNotAdmin(deps, who, `dnc_${parsed.op}`, log);
    return plain(onlyAdmins(deps, 'change or list the do-not-call list'));
  }
  switch (parsed.op) {
    case 'list': {
      const { entries, total } = await deps.store.listDnc(who.teamId, 50);
      return dncListMessage(
        entries.map((e) => dncEntryLine(displayOf(e.e164, deps.defaultRegion), e, true)),
        total,
      );
    }
    case 'import':
      await who.client.views.open({ trigger_id: who.triggerId, view: dncImportModal() });
      return undefined;
    case 'add': {
      const recipient = dncRecipient(parsed.number, deps.defaultRegion);
      const { added } = await deps.store.addDnc(
        who.teamId,
        [{ e164: recipient.e164, ...(parsed.reason ? { reason: parsed.reason } : {}) }],
        who.userId,
        deps.now().getTime(),
      );
      if (added.length) {
        await deps.store.audit({
          teamId: who.teamId,
          at: deps.now().getTime(),
          actor: who.userId,
          action: 'dnc:add',
          target: recipient.e164,
          detail: parsed.reason ? { reason: parsed.reason } : {},
        });
        log.info('added to the do-not-call list', { recipient: maskPhone(recipient.e164) });
      }
      return plain(
        added.length
          ? `Added *${recipient.display}* to the do-not-call list${extensionNote(recipient)}. No call to it will be placed.`
          : `*${recipient.display}* was already on the do-not-call list${extensionNote(recipient)}.`,
      );
    }
    case 'remove': {
      const recipient = dncRecipient(parsed.number, deps.defaultRegion);
      const removed = await deps.store.removeDnc(who.teamId, recipient.e164);
      if (removed) {
        await deps.store.audit({
          teamId: who.teamId,
          at: deps.now().getTime(),
          actor: who.userId,
          action: 'dnc:remove',
          target: recipient.e164,
          detail: {},
        });
      }
      return plain(
        removed
          ? `Removed *${recipient.display}* from the do-not-call list${extensionNote(recipient)}.`
          : `*${recipient.display}* was not on the do-not-call list${extensionNote(recipient)}.`,
      );
    }
  }
}

function displayOf(e164: string, region: CountryCode): string {
  try {
    return normalizeRecipient(e164, region).display;
  } catch {
    return e164;
  }
}

/** `/call audit [n]`: the latest refusals, overrides and list changes, for admins. */
export async function auditCommand(count: number, who: Who, deps: AdminDeps): Promise<SlackMessage> {
  if (!(await isAdmin(deps, who))) {
    await refusedNotAdmin(deps, who, 'audit', deps.logger.child({ userId: who.userId, op: 'audit' }));
    return plain(onlyAdmins(deps, 'read the audit log'));
  }
  return auditMessage(await deps.store.auditLog(who.teamId, count));
}

/**
 * Reads pasted lines or CSV rows: every cell that is a valid number is listed (its main number, when an extension is
 * written after it), each with the row's other cells as its reason. A row with a customer's phone and mobile lists
 * both: on a do-not-call list, a number left out would be called.
 */
export function readDncLines(
  text: string,
  region: CountryCode,
): { entries: { e164: string; reason?: string }[]; rejected: string[] } {
  const entries: { e164: string; reason?: string }[] = [];
  const rejected: string[] = [];
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  lines.forEach((line, index) => {
    if (!line) return;
    const cells = line.split(/[,;\t]/).map((c) => c.trim().replace(/^"|"$/g, ''));
    const numbers: string[] = [];
    const others: string[] = [];
    for (const cell of cells) {
      const e164 = /\d{4,}|\d[\d\s().-]{5,}/.test(cell) ? dncNumber(cell, region) : undefined;
      if (e164) numbers.push(e164);
      else others.push(cell);
    }
    if (numbers.length === 0) {
      // A first line without digits is a CSV header, not a mistake.
      if (index === 0 && !/\d/.test(line)) return;
      rejected.push(line);
      return;
    }
    const reason = others.join(', ').trim();
    for (const e164 of numbers) entries.push({ e164, ...(reason ? { reason } : {}) });
  });
  return { entries, rejected };
}

/** A cell's number as the list keys it, or undefined when it is not a valid number. */
function dncNumber(cell: string, region: CountryCode): string | undefined {
  try {
    return dncRecipient(cell, region).e164;
  } catch (err) {
    if (!(err instanceof CallRequestError)) throw err;
    return undefined;
  }
}

/** The import modal is submitted: adds the numbers, and shows how many were added, skipped and rejected. */
export const DNC_NOT_SAVED =
  "I couldn't save the numbers (the app's database is not answering), so none were added. Try again in a minute.";

export function dncImportSubmission(deps: AdminDeps) {
  return async ({
    ack,
    body,
    view,
    client,
  }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
    const who = { teamId: workspaceOf(body) ?? view.team_id, userId: body.user.id, client };
    if (!(await isAdmin(deps, who))) {
      await ack({
        response_action: 'errors',
        errors: { [DNC_IMPORT_BLOCK]: onlyAdmins(deps, 'import numbers', 'form') },
      });
      return;
    }
    const text = view.state.values[DNC_IMPORT_BLOCK]?.[DNC_IMPORT_INPUT]?.value ?? '';
    const { entries, rejected } = readDncLines(text, deps.defaultRegion);
    let saved: { added: string[]; duplicates: string[] };
    try {
      // One transaction: all the numbers, or none.
      saved = await deps.store.addDnc(who.teamId, entries, who.userId, deps.now().getTime());
    } catch (err) {
      deps.logger.error('could not import do-not-call numbers', { error: err });
      await ack({ response_action: 'errors', errors: { [DNC_IMPORT_BLOCK]: DNC_NOT_SAVED } });
      return;
    }
    const { added, duplicates } = saved;
    await deps.store
      .audit({
        teamId: who.teamId,
        at: deps.now().getTime(),
        actor: who.userId,
        action: 'dnc:import',
        detail: { added: added.length, duplicates: duplicates.length, rejected: rejected.length },
      })
      .catch((err: unknown) =>
        deps.logger.warn('could not record the import in the audit log', { error: err }),
      );
    deps.logger.info('do-not-call import', {
      added: added.length,
      duplicates: duplicates.length,
      rejected: rejected.length,
    });
    await ack({
      response_action: 'update',
      view: dncImportResult(added.length, duplicates.length, rejected),
    });
  };
}
