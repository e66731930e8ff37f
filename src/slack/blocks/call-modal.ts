/**
 * The call modal: the form behind `/call` alone, an incomplete `/call`, the "Call this number" message shortcut, the
 * "Place a call" global shortcut and the Home tab's button. Pure functions of the settings and what is known so far;
 * the listeners open it, read it back and check it with the command's own rules.
 */
import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import type { CallCatalog, OpenChoice } from '../../calls/call-request.js';
import type { Directory, DirectoryEntry } from '../../calls/directory.js';
import type { CallField } from '../../calls/errors.js';
import { listWords } from '../../calls/listing.js';
import { extensionVariable, type FoundNumber } from '../../calls/phone.js';
import { describeInZone, type When } from '../../calls/when.js';
import { clip, escapeMrkdwn } from './mrkdwn.js';

/** The modal's callback_id. */
export const CALL_MODAL = 'call_modal';

/** Block ids: one per field, named like the request's fields (an error for a field is shown next to its block). */
export const NOTE_BLOCK = 'note';
export const CHANNEL_BLOCK = 'channel';
export const RECIPIENT_BLOCK = 'recipient';
export const AGENT_BLOCK = 'agent';
export const FROM_BLOCK = 'from';
export const CAMPAIGN_BLOCK = 'campaign';
export const WHEN_BLOCK = 'when';
export const WHEN_HINT_BLOCK = 'when_hint';
export const VARIABLES_BLOCK = 'variables';
export const METADATA_BLOCK = 'metadata';

/** Action ids of the fields' elements. */
export const CHANNEL_ACTION = 'channel_input';
export const RECIPIENT_ACTION = 'recipient_input';
export const AGENT_ACTION = 'agent_input';
export const FROM_ACTION = 'from_input';
export const CAMPAIGN_ACTION = 'campaign_input';
/** The time field dispatches a block_actions payload when Enter is pressed in it: the app shows how it read it. */
export const WHEN_ACTION = 'when_input';
export const VARIABLES_ACTION = 'variables_input';
export const METADATA_ACTION = 'metadata_input';

/** The campaign menu's first option: the command's rules (the agent's campaign, else the default). */
export const AUTOMATIC_CAMPAIGN = ':automatic';

/** Slack's limits for modals and Home tabs that apply to what this app builds. */
export const VIEW_LIMITS = {
  blocks: 100,
  title: 24,
  button: 24,
  privateMetadata: 3000,
  optionText: 75,
  optionValue: 150,
  options: 100,
  id: 255,
  placeholder: 150,
  label: 2000,
  hint: 2000,
  contextText: 3000,
} as const;

/** The most phone numbers from one message offered in the recipient menu. */
export const MAX_FOUND_NUMBERS = 20;

/** Where the modal was opened from; with `channelId` unknown, the modal asks for a channel. */
export type ModalSource = 'command' | 'message' | 'shortcut' | 'home';

export interface CallModalOrigin {
  source: ModalSource;
  /** Where the confirmation is posted. Absent: the modal asks for a channel. */
  channelId?: string;
  /** The thread the confirmation goes in (the message a shortcut was used on). */
  threadTs?: string;
  /** The command's or message shortcut's response_url: the rep alone is told there when the bot can't post. */
  responseUrl?: string;
}

/** A number found in a message with an extension after it. */
export interface NumberWithExtension {
  /** The number as shown, without the extension. */
  display: string;
  extension: string;
}

export type ModalNote =
  | { kind: 'no_number' }
  | { kind: 'open_choices'; choices: OpenChoice[] }
  | {
      kind: 'extensions';
      /** The numbers of the message that have an extension, in its order. */
      numbers: NumberWithExtension[];
      /** The form opened with the first one's extension in its variables (it is the number filled in or chosen). */
      filled: boolean;
    };

/** What the modal carries in private_metadata: where it came from and how it is laid out. */
export interface CallModalContext {
  origin: CallModalOrigin;
  /** Numbers found in a message: with two or more the recipient field is a menu of them. */
  numbers?: FoundNumber[];
  note?: ModalNote;
}

/** What the form holds: filled in when it opens, read back on every interaction. */
export interface CallModalValues {
  recipient?: string;
  /** Agent, number and campaign by alias (or id); campaign undefined means automatic. */
  agent?: string;
  from?: string;
  campaign?: string;
  when?: string;
  /** `Key=Value` lines. */
  variables?: string;
  metadata?: string;
  channelId?: string;
}

export const NO_NUMBER_NOTE =
  "I couldn't find a phone number in that message. Type the number to call below, with its country code.";

const CHOICE_WORDS: Record<OpenChoice, string> = {
  agent: 'the agent',
  from: 'the number to call from',
  campaign: 'the campaign',
};

/**
 * The note above the form. `menu`: the number field is a menu of the message's numbers, so the extension filled in
 * belongs to the one chosen first only.
 */
export function noteText(note: ModalNote, menu = false): string {
  if (note.kind === 'no_number') return NO_NUMBER_NOTE;
  if (note.kind === 'extensions') return extensionNoteText(note.numbers, note.filled, menu);
  const choices = listWords(note.choices.map((c) => CHOICE_WORDS[c]));
  return `Your \`/call\` needs a little more: choose ${choices} below (no default is set), check the rest, and press *Place call*.`;
}

/**
 * Iqra dials the number only: the note says where the extension went, in `/call`'s words (extensionError), so that
 * it is not lost without a word.
 */
function extensionNoteText(numbers: readonly NumberWithExtension[], filled: boolean, menu: boolean): string {
  const [first] = numbers;
  if (!first) return '';
  const variable = (n: NumberWithExtension) => `\`${escapeMrkdwn(extensionVariable(n.extension))}\``;
  const cannot = "The AI agent can't dial extensions";
  if (!menu && filled) {
    return (
      `The message gives ${escapeMrkdwn(first.display)} with extension ${escapeMrkdwn(first.extension)}. ${cannot}: ` +
      `the form has the main number only, and the extension in a variable, ${variable(first)}, which the agent can read.`
    );
  }
  const which = listWords(
    numbers.map((n) => `${escapeMrkdwn(n.display)} has extension ${escapeMrkdwn(n.extension)}`),
  );
  const what = filled
    ? `${escapeMrkdwn(first.display)}, chosen below, has its extension in a variable, ${variable(first)}, which the ` +
      'agent can read: if you choose another number, change or remove it.'
    : `If you choose ${numbers.length === 1 ? 'it' : 'one of them'}, put its extension in a variable, e.g. ` +
      `${variable(first)}, which the agent can read.`;
  return `In the message, ${which}. ${cannot}: it calls the main number. ${what}`;
}

const plain = (text: string) => ({ type: 'plain_text' as const, text });

export function option(text: string, value: string): PlainTextOption {
  return { text: plain(clip(text, VIEW_LIMITS.optionText)), value: value.slice(0, VIEW_LIMITS.optionValue) };
}

/** At most `limit` items (Slack allows 100 options), always including the selected one. */
export function capped<T>(
  items: readonly T[],
  selected: T | undefined,
  limit: number = VIEW_LIMITS.options,
): T[] {
  if (items.length <= limit) return [...items];
  const first = items.slice(0, limit);
  if (selected === undefined || first.includes(selected)) return first;
  return [selected, ...first.slice(0, limit - 1)];
}

function directoryInput(
  directory: Directory,
  blockId: string,
  actionId: string,
  label: string,
  placeholder: string,
  selected: DirectoryEntry | undefined,
  hint: string,
): InputBlock | undefined {
  if (directory.entries.length === 0) return undefined;
  const label_ = (e: DirectoryEntry) => (e === directory.fallback ? `${e.alias} (default)` : e.alias);
  const options = capped(directory.entries, selected).map((e) => option(label_(e), e.alias));
  const initial = selected ? options.find((o) => o.value === selected.alias) : undefined;
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    hint: plain(hint),
    element: {
      type: 'static_select',
      action_id: actionId,
      placeholder: plain(placeholder),
      options,
      ...(initial ? { initial_option: initial } : {}),
    },
  };
}

function recipientInput(context: CallModalContext, value: string | undefined, region: string): InputBlock {
  const numbers = context.numbers ?? [];
  const hint = plain(
    `With its country code, e.g. +14155552671. Numbers without + are read as ${region === 'GB' ? 'UK' : region} numbers.`,
  );
  if (numbers.length >= 2) {
    // A number's extension is shown with it, so that the rep sees which one has it (the note says where it goes).
    const options = numbers
      .slice(0, MAX_FOUND_NUMBERS)
      .map((n) => option(n.extension ? `${n.display} ext. ${n.extension}` : n.display, n.e164));
    const initial = options.find((o) => o.value === value) ?? options[0];
    return {
      type: 'input',
      block_id: RECIPIENT_BLOCK,
      label: plain('Phone number'),
      hint: plain(`I found ${numbers.length} numbers in the message: choose the one to call.`),
      element: {
        type: 'static_select',
        action_id: RECIPIENT_ACTION,
        placeholder: plain('Choose a number'),
        options,
        ...(initial ? { initial_option: initial } : {}),
      },
    };
  }
  return {
    type: 'input',
    block_id: RECIPIENT_BLOCK,
    label: plain('Phone number'),
    hint,
    element: {
      type: 'plain_text_input',
      action_id: RECIPIENT_ACTION,
      placeholder: plain('+1 415 555 2671'),
      max_length: 100,
      ...(value ? { initial_value: value } : {}),
    },
  };
}

/**
 * The campaign menu: "Automatic" first (the command's rules), then the configured campaigns; none when none is
 * configured. The batch form uses it too, with its own ids and a word on the list's own column.
 */
export function campaignInput(
  catalog: CallCatalog,
  value: string | undefined,
  o: { blockId: string; actionId: string; hintSuffix?: string } = {
    blockId: CAMPAIGN_BLOCK,
    actionId: CAMPAIGN_ACTION,
  },
): InputBlock | undefined {
  const { campaigns } = catalog;
  if (campaigns.entries.length === 0) return undefined;
  const selected = value !== undefined ? campaigns.find(value) : undefined;
  const automatic = option('Automatic (like /call)', AUTOMATIC_CAMPAIGN);
  const options = [
    automatic,
    ...capped(campaigns.entries, selected, VIEW_LIMITS.options - 1).map((c) =>
      option(c === campaigns.fallback ? `${c.alias} (default)` : c.alias, c.alias),
    ),
  ];
  const initial = (selected && options.find((o) => o.value === selected.alias)) || automatic;
  const fallback = campaigns.fallback ? `the default campaign (${campaigns.fallback.alias})` : 'none';
  const required = catalog.campaignRequired ? ' This Iqra server needs a campaign for every call.' : '';
  return {
    type: 'input',
    block_id: o.blockId,
    optional: true,
    label: plain('Campaign'),
    hint: plain(
      `Automatic: the campaign named like the agent, else ${fallback}.${o.hintSuffix ?? ''}${required}`.slice(
        0,
        VIEW_LIMITS.hint,
      ),
    ),
    element: {
      type: 'static_select',
      action_id: o.actionId,
      placeholder: plain('Automatic'),
      options,
      initial_option: initial,
    },
  };
}

function linesInput(
  blockId: string,
  actionId: string,
  label: string,
  placeholder: string,
  hint: string,
  value: string | undefined,
): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional: true,
    label: plain(label),
    hint: plain(hint),
    element: {
      type: 'plain_text_input',
      action_id: actionId,
      multiline: true,
      placeholder: plain(placeholder),
      ...(value ? { initial_value: value } : {}),
    },
  };
}

/**
 * The modal. `values` fills the fields in (what was typed, or what the form held when it is rebuilt); `whenHint`
 * is the line under the time field saying how the time was understood.
 */
export function callModal(
  catalog: CallCatalog,
  context: CallModalContext,
  values: CallModalValues = {},
  whenHint?: string,
): ModalView {
  const blocks: KnownBlock[] = [];
  if (context.note) {
    blocks.push({
      type: 'section',
      block_id: NOTE_BLOCK,
      text: { type: 'mrkdwn', text: noteText(context.note, (context.numbers?.length ?? 0) >= 2) },
    });
  }
  if (!context.origin.channelId) {
    blocks.push({
      type: 'input',
      block_id: CHANNEL_BLOCK,
      label: plain('Post the confirmation in'),
      hint: plain(
        'The call is confirmed there for your team, with its details in a thread. In a private channel, invite @Iqra Calls first.',
      ),
      element: {
        type: 'conversations_select',
        action_id: CHANNEL_ACTION,
        placeholder: plain('Choose a channel'),
        // A response_url for the chosen channel: if the bot can't post there, the rep alone is told the outcome.
        response_url_enabled: true,
        filter: { include: ['public', 'private'], exclude_bot_users: true },
        ...(values.channelId
          ? { initial_conversation: values.channelId }
          : { default_to_current_conversation: true }),
      },
    });
  }
  blocks.push(recipientInput(context, values.recipient, catalog.defaultRegion));
  const agent = values.agent !== undefined ? catalog.agents.find(values.agent) : catalog.agents.fallback;
  const number = values.from !== undefined ? catalog.numbers.find(values.from) : catalog.numbers.fallback;
  const optional = [
    directoryInput(
      catalog.agents,
      AGENT_BLOCK,
      AGENT_ACTION,
      'Agent',
      'Choose an agent',
      agent,
      'The Iqra AI agent that makes the call.',
    ),
    directoryInput(
      catalog.numbers,
      FROM_BLOCK,
      FROM_ACTION,
      'Call from',
      'Choose a caller-ID number',
      number,
      'The caller-ID number the customer sees.',
    ),
    campaignInput(catalog, values.campaign),
  ];
  for (const block of optional) if (block) blocks.push(block);
  blocks.push({
    type: 'input',
    block_id: WHEN_BLOCK,
    optional: true,
    dispatch_action: true,
    label: plain('When'),
    hint: plain(
      'Leave it empty to call now. Read in your Slack time zone unless you name one; press Enter to see how it is understood.',
    ),
    element: {
      type: 'plain_text_input',
      action_id: WHEN_ACTION,
      placeholder: plain('now, tomorrow 10am, friday 3pm, in 2 hours'),
      dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
      ...(values.when ? { initial_value: values.when } : {}),
    },
  });
  if (whenHint) {
    blocks.push({
      type: 'context',
      block_id: WHEN_HINT_BLOCK,
      elements: [{ type: 'mrkdwn', text: clip(whenHint, VIEW_LIMITS.contextText) }],
    });
  }
  blocks.push(
    linesInput(
      VARIABLES_BLOCK,
      VARIABLES_ACTION,
      'Dynamic variables',
      'One Key=Value per line, e.g. CustomerName=Jane Doe',
      'For the agent. Names have letters, digits, _ and -; values need no quotes.',
      values.variables,
    ),
    linesInput(
      METADATA_BLOCK,
      METADATA_ACTION,
      'Metadata',
      'One Key=Value per line, e.g. Source=webinar',
      'Kept with the call in Iqra. The app adds SlackTeamId, SlackChannelId, SlackUserId and RequestId itself.',
      values.metadata,
    ),
  );
  return {
    type: 'modal',
    callback_id: CALL_MODAL,
    title: plain('Place a call'),
    submit: plain('Place call'),
    close: plain('Cancel'),
    private_metadata: encodeModalContext(context),
    blocks,
  };
}

/** The block an error about `field` is shown next to: the field's own, else the first input of the view. */
export function blockForField(
  field: CallField,
  blocks: readonly { type: string; block_id?: string }[],
): string {
  const own: Partial<Record<CallField, string>> = {
    recipient: RECIPIENT_BLOCK,
    agent: AGENT_BLOCK,
    from: FROM_BLOCK,
    campaign: CAMPAIGN_BLOCK,
    when: WHEN_BLOCK,
    variables: VARIABLES_BLOCK,
    metadata: METADATA_BLOCK,
  };
  const wanted = own[field];
  const inputs = blocks.filter((b) => b.type === 'input' && b.block_id);
  if (wanted && inputs.some((b) => b.block_id === wanted)) return wanted;
  return inputs[0]?.block_id ?? RECIPIENT_BLOCK;
}

/** "Understood as: …" under the time field: the time in the rep's zone, or what is wrong with it. */
export function whenHintText(
  result: { when: When; timeZone: string; zoneSource: 'slack' | 'default' } | { error: string },
): string {
  if ('error' in result) return `⚠️ ${result.error}`;
  const { when, timeZone, zoneSource } = result;
  if (when.kind === 'now')
    return 'Understood as: *now*. The call is placed as soon as you press *Place call*.';
  const named =
    when.zoneSource === 'phrase' && when.timeZone !== timeZone
      ? ` (${describeInZone(when.at, when.timeZone)})`
      : '';
  const note =
    zoneSource === 'default'
      ? ` Your Slack profile has no time zone, so ${escapeMrkdwn(timeZone)} is used.`
      : '';
  return `Understood as: *${describeInZone(when.at, timeZone)}*${named}${note}`;
}

// ---------------------------------------------------------------------------------------------------------------
// private_metadata

interface EncodedContext {
  v: 1;
  s: ModalSource;
  c?: string;
  t?: string;
  r?: string;
  /** Found numbers as [e164, display], or [e164, display, extension]. */
  n?: ([string, string] | [string, string, string])[];
  /** The note: `no_number`, or the open choices. */
  o?: 'no_number' | OpenChoice[];
  /** The extensions note: the numbers with one as [display, extension], and `f: 1` when the first was filled in. */
  x?: [string, string][];
  f?: 1;
}

const SOURCES: readonly ModalSource[] = ['command', 'message', 'shortcut', 'home'];
const CHOICES: readonly OpenChoice[] = ['agent', 'from', 'campaign'];

/** The context as JSON within Slack's 3000 characters (found numbers are dropped from the end if need be). */
export function encodeModalContext(context: CallModalContext): string {
  const { origin } = context;
  const encoded: EncodedContext = {
    v: 1,
    s: origin.source,
    ...(origin.channelId ? { c: origin.channelId } : {}),
    ...(origin.threadTs ? { t: origin.threadTs } : {}),
    ...(origin.responseUrl && origin.responseUrl.length <= 1000 ? { r: origin.responseUrl } : {}),
    ...(context.numbers?.length
      ? {
          n: context.numbers
            .slice(0, MAX_FOUND_NUMBERS)
            .map((n): [string, string] | [string, string, string] =>
              n.extension ? [n.e164, n.display, n.extension] : [n.e164, n.display],
            ),
        }
      : {}),
    ...encodeNote(context.note),
  };
  let json = JSON.stringify(encoded);
  while (json.length > VIEW_LIMITS.privateMetadata && encoded.n?.length) {
    encoded.n = encoded.n.slice(0, -1);
    json = JSON.stringify(encoded);
  }
  return json;
}

function encodeNote(note: ModalNote | undefined): Pick<EncodedContext, 'o' | 'x' | 'f'> {
  if (!note) return {};
  if (note.kind === 'no_number') return { o: 'no_number' };
  if (note.kind === 'open_choices') return { o: note.choices };
  return {
    x: note.numbers.slice(0, MAX_FOUND_NUMBERS).map((n): [string, string] => [n.display, n.extension]),
    ...(note.filled ? { f: 1 as const } : {}),
  };
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** The context a modal was opened with, or undefined when private_metadata is not this app's modal context. */
export function decodeModalContext(text: string | undefined): CallModalContext | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Partial<Record<keyof EncodedContext, unknown>>;
  if (e.v !== 1 || !SOURCES.includes(e.s as ModalSource)) return undefined;
  const origin: CallModalOrigin = { source: e.s as ModalSource };
  if (isString(e.c)) origin.channelId = e.c;
  if (isString(e.t)) origin.threadTs = e.t;
  if (isString(e.r)) origin.responseUrl = e.r;
  const context: CallModalContext = { origin };
  if (Array.isArray(e.n)) {
    const numbers = e.n.filter(
      (p): p is [string, string] | [string, string, string] =>
        Array.isArray(p) && isString(p[0]) && isString(p[1]) && (p[2] === undefined || isString(p[2])),
    );
    if (numbers.length) {
      context.numbers = numbers.map(([e164, display, extension]) =>
        extension ? { e164, display, extension } : { e164, display },
      );
    }
  }
  if (Array.isArray(e.x)) {
    const numbers = e.x.filter(
      (p): p is [string, string] => Array.isArray(p) && isString(p[0]) && isString(p[1]),
    );
    if (numbers.length) {
      context.note = {
        kind: 'extensions',
        numbers: numbers.map(([display, extension]) => ({ display, extension })),
        filled: e.f === 1,
      };
    }
  } else if (e.o === 'no_number') context.note = { kind: 'no_number' };
  else if (Array.isArray(e.o)) {
    const choices = e.o.filter((c): c is OpenChoice => CHOICES.includes(c as OpenChoice));
    if (choices.length) context.note = { kind: 'open_choices', choices };
  }
  return context;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading the form back

/** The shape of `view.state.values` in Slack's payloads, as far as this modal needs it. */
export type ViewStateValues = Record<
  string,
  Record<
    string,
    {
      value?: string | null;
      selected_option?: { value: string } | null;
      selected_conversation?: string | null;
    }
  >
>;

/** What the form holds, from a view_submission's or block_actions' `view.state.values`. */
export function readCallModal(state: ViewStateValues): CallModalValues {
  const at = (block: string, action: string) => state[block]?.[action];
  const text = (block: string, action: string): string | undefined => {
    const v = at(block, action);
    const value = v?.value ?? v?.selected_option?.value ?? undefined;
    return value === undefined || value === null || value.trim() === '' ? undefined : value;
  };
  const values: CallModalValues = {};
  const set = <K extends keyof CallModalValues>(key: K, value: string | undefined) => {
    if (value !== undefined) values[key] = value;
  };
  set('recipient', text(RECIPIENT_BLOCK, RECIPIENT_ACTION));
  set('agent', text(AGENT_BLOCK, AGENT_ACTION));
  set('from', text(FROM_BLOCK, FROM_ACTION));
  const campaign = text(CAMPAIGN_BLOCK, CAMPAIGN_ACTION);
  set('campaign', campaign === AUTOMATIC_CAMPAIGN ? undefined : campaign);
  set('when', text(WHEN_BLOCK, WHEN_ACTION)?.trim());
  set('variables', text(VARIABLES_BLOCK, VARIABLES_ACTION));
  set('metadata', text(METADATA_BLOCK, METADATA_ACTION));
  set('channelId', at(CHANNEL_BLOCK, CHANNEL_ACTION)?.selected_conversation ?? undefined);
  return values;
}
