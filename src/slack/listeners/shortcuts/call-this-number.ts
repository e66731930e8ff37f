import type { AllMiddlewareArgs, MessageShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import type { CallCatalog } from '../../../calls/call-request.js';
import { withoutFormatCharacters } from '../../../calls/format-characters.js';
import { extensionVariable, type FoundNumber, findPhoneNumbers } from '../../../calls/phone.js';
import type { Logger } from '../../../log.js';
import {
  type CallModalContext,
  type CallModalValues,
  callModal,
  MAX_FOUND_NUMBERS,
  type ModalNote,
} from '../../blocks/call-modal.js';
import { escapeMrkdwn } from '../../blocks/mrkdwn.js';
import type { UserZones } from '../../user-zones.js';
import { openCallModal } from '../views/open-call-modal.js';

/** The message shortcut's callback_id (manifest.yml: "Call this number"). */
export const CALL_THIS_NUMBER = 'call_this_number';

export interface CallThisNumberDeps {
  catalog: CallCatalog;
  zones: UserZones;
  logger: Logger;
}

export const SHORTCUT_MODAL_NOT_OPENED = (slackError: string) =>
  `⚠️ I couldn't open the call form (Slack said \`${escapeMrkdwn(slackError)}\`). Try the shortcut again, or use \`/call\`.`;

/**
 * The text of a message where phone numbers may be: its `text` (Slack markup and entities, read by
 * findPhoneNumbers), its blocks: rich text (`text` elements, and `link` elements to `tel:` URLs; other links are
 * skipped, so that digits in URLs are not taken for numbers) and the text objects of section, header and context
 * blocks; and its legacy attachments (pretext, title, text, fields, blocks), where integrations' bots put a lead's
 * details. Invisible format characters (direction marks, zero-width spaces) are removed and Unicode spaces (the
 * narrow no-break space French text groups digits with) read as spaces, as `/call` reads a number.
 */
export function messagePhoneText(message: {
  text?: string;
  blocks?: unknown;
  attachments?: unknown;
}): string {
  const parts: string[] = [message.text ?? ''];
  const walk = (node: unknown): string => {
    if (Array.isArray(node)) return node.map(walk).join('');
    if (typeof node !== 'object' || node === null) return '';
    const n = node as { type?: unknown; text?: unknown; url?: unknown; elements?: unknown; fields?: unknown };
    switch (n.type) {
      // Rich text and plain_text hold text as written; it is escaped so that `<`, `>` in it are not read as markup.
      case 'text':
        return typeof n.text === 'string' ? escapeMrkdwn(n.text) : '';
      case 'link':
        return typeof n.url === 'string' && /^tel:/i.test(n.url) ? ` ${n.url.slice('tel:'.length)} ` : ' ';
      case 'plain_text':
        return typeof n.text === 'string' ? `${escapeMrkdwn(n.text)}\n` : '';
      case 'mrkdwn':
        return typeof n.text === 'string' ? `${n.text}\n` : '';
      case 'header':
      case 'section':
        return [n.text, ...(Array.isArray(n.fields) ? n.fields : [])].map(walk).join('');
      default:
        // Blocks and containers (rich_text, rich_text_section, rich_text_list, …): their elements, one per line.
        return Array.isArray(n.elements) ? `${n.elements.map(walk).join('')}\n` : '';
    }
  };
  if (Array.isArray(message.blocks)) parts.push(...message.blocks.map(walk));
  if (Array.isArray(message.attachments)) {
    for (const attachment of message.attachments) {
      if (typeof attachment !== 'object' || attachment === null) continue;
      const a = attachment as {
        pretext?: unknown;
        title?: unknown;
        text?: unknown;
        fields?: unknown;
        blocks?: unknown;
      };
      const fields = Array.isArray(a.fields) ? (a.fields as { title?: unknown; value?: unknown }[]) : [];
      const texts = [a.pretext, a.title, a.text, ...fields.flatMap((f) => [f?.title, f?.value])];
      parts.push(...texts.filter((t): t is string => typeof t === 'string'));
      if (Array.isArray(a.blocks)) parts.push(...a.blocks.map(walk));
    }
  }
  return withoutFormatCharacters(parts.join('\n')).replace(/[^\S\n]/g, ' ');
}

/**
 * The note for numbers found with an extension, or undefined when none has one. Iqra dials the main number only, so
 * the extension of the number filled in (or chosen first) goes in the variables as `/call` suggests, and the note
 * says so, rather than the extension being lost without a word.
 */
function extensionsNote(
  found: readonly FoundNumber[],
): Extract<ModalNote, { kind: 'extensions' }> | undefined {
  const numbers = found.flatMap((n) => (n.extension ? [{ display: n.display, extension: n.extension }] : []));
  if (numbers.length === 0) return undefined;
  return { kind: 'extensions', numbers, filled: found[0]?.extension !== undefined };
}

/**
 * "Call this number" on a message: the call modal with the message's phone number filled in (a menu when it has
 * several; an empty field and a note when it has none; with an extension, the main number, the extension in a
 * variable and a note saying so). The confirmation goes in the message's thread.
 */
export function callThisNumberShortcut(deps: CallThisNumberDeps) {
  return async ({
    ack,
    shortcut,
    client,
    respond,
  }: SlackShortcutMiddlewareArgs<MessageShortcut> & AllMiddlewareArgs) => {
    await ack();
    const { message } = shortcut;
    const found = findPhoneNumbers(messagePhoneText(message), deps.catalog.defaultRegion).slice(
      0,
      MAX_FOUND_NUMBERS,
    );
    const threadTs = typeof message.thread_ts === 'string' ? message.thread_ts : message.ts;
    const extensions = extensionsNote(found);
    const context: CallModalContext = {
      origin: {
        source: 'message',
        channelId: shortcut.channel.id,
        threadTs,
        responseUrl: shortcut.response_url,
      },
      ...(found.length > 1 ? { numbers: found } : {}),
      ...(found.length === 0 ? { note: { kind: 'no_number' as const } } : {}),
      ...(extensions ? { note: extensions } : {}),
    };
    const [first] = found;
    const values: CallModalValues = {};
    const recipient = found.length > 1 ? first?.e164 : first?.display;
    if (recipient) values.recipient = recipient;
    if (first?.extension) values.variables = extensionVariable(first.extension);
    const failed = await openCallModal(client, deps, {
      triggerId: shortcut.trigger_id,
      userId: shortcut.user.id,
      view: callModal(deps.catalog, context, values),
    });
    if (failed) {
      await respond({ response_type: 'ephemeral', text: SHORTCUT_MODAL_NOT_OPENED(failed) }).catch(() => {});
      return;
    }
    deps.logger.info('call modal opened', {
      source: 'message',
      userId: shortcut.user.id,
      channel: shortcut.channel.id,
      numbersFound: found.length,
      extensionsFound: extensions?.numbers.length ?? 0,
    });
  };
}
