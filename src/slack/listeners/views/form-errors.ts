/**
 * The forms' words for a refusal. The forms are checked with the command's rules (src/calls), whose messages are
 * written for `/call`'s ephemeral answer: Slack mrkdwn, with what to type in `code`, and examples in the command's
 * syntax (`/call +14155552671`, `at "tomorrow 10am"`, `agent=sales`). In a form, what the rep types is one field's
 * value, and Slack shows a field's error as plain text. The command's messages stay as they are; here, at the form's
 * edge, the few command-only turns of phrase are reworded (what to type in that field, no `/call`, no "command"), and
 * the mrkdwn becomes plain text.
 *
 * Two forms take the command's messages: the call form (`/call` alone, the Home tab, "Call this number") and the batch
 * form (`/call batch`, the Home tab's "New batch"), whose Start field and agent, number and campaign menus are checked
 * as a call's are. Most rewrites fit both; a few are one form's own (the call form places one call; the batch form
 * starts a batch, and its channel menu is where its progress is posted).
 *
 * Each rewrite matches one shape of message from src/calls; test/slack/listeners/views/form-errors.test.ts runs the
 * real checks on many inputs and fails if a message reaches a form with command syntax or a backtick in it.
 */
import type { CallField } from '../../../calls/errors.js';

/** The longest error shown under a field; the form's messages are far shorter (a few hundred characters at most). */
export const FIELD_ERROR_MAX = 1000;

/** The forms whose errors are worded here: the call form, and the batch form. */
export type FormName = 'call' | 'batch';

interface Rewrite {
  /** The forms it applies to; both when absent. */
  forms?: readonly FormName[];
  /** The fields whose messages it applies to; all when absent. */
  fields?: readonly CallField[];
  pattern: RegExp;
  replace: string | ((match: string, ...groups: string[]) => string);
}

const REWRITES: readonly Rewrite[] = [
  // when.ts: examples are what follows `at` in the command; in the form they are the field's value.
  { pattern: /`at "([^`"]*)"`/g, replace: '`$1`' },
  {
    forms: ['call'],
    fields: ['when'],
    pattern: /, or leave out `at` to call now\./g,
    replace: ', or leave this field empty to call now.',
  },
  // The batch's start ("The batch's start: …", src/services/batch-desk.ts): empty is now.
  {
    forms: ['batch'],
    fields: ['when'],
    pattern: /, or leave out `at` to call now\./g,
    replace: ', or leave Start empty to start the batch now.',
  },
  // phone.ts, two numbers or more: one call per form, not per command.
  {
    forms: ['call'],
    fields: ['recipient'],
    pattern:
      /One call per command: call one of them, e\.g\. `\/call ([^`]*)`, and (the other one with a second command|the others with a command each) \(or call a list with `\/call batch`\)\./g,
    replace: (_, first: string, others: string) =>
      `This form places one call: type one of them, e.g. \`${first}\`, then place ${
        others.startsWith('the other one')
          ? 'another call for the other one'
          : 'a call for each of the others'
      } (to call a list, use New batch on the app's Home tab).`,
  },
  // phone.ts, the same number twice, and any other example written as a command: the number alone.
  { pattern: /`\/call ([^`]+)`/g, replace: '`$1`' },
  // phone.ts: the form has a field for the variables.
  {
    forms: ['call'],
    fields: ['recipient'],
    pattern: /put the extension in a variable, e\.g\./g,
    replace: 'put the extension in Dynamic variables, e.g.',
  },
  // phone.ts: a number pasted from a spreadsheet is typed again or copied again, not exported.
  {
    forms: ['call'],
    fields: ['recipient'],
    pattern:
      /Format the phone column as Text in the spreadsheet \(or write the numbers with their `\+` and country code, e\.g\. `([^`]*)`\), then export it again\./g,
    replace:
      'Type it with its + and country code, e.g. `$1` (or format the phone column as Text in the spreadsheet and copy the number again).',
  },
  // call-request.ts: no agent or caller-ID number chosen, and no default. The form has a menu for each.
  {
    forms: ['call'],
    fields: ['agent'],
    pattern: /Say which agent to use, e\.g\. `agent=([^`]*)`\./g,
    replace: 'Choose the agent to use, e.g. `$1`.',
  },
  {
    forms: ['call'],
    fields: ['from'],
    pattern: /Say which number to use, e\.g\. `from=([^`]*)`\./g,
    replace: 'Choose the number to call from, e.g. `$1`.',
  },
  // directory.ts: a choice no longer configured (the settings changed since the form opened).
  { fields: ['from'], pattern: /I don't know the number “/g, replace: "I don't know the caller-ID number “" },
  {
    fields: ['agent', 'from', 'campaign'],
    pattern: / Example: `(?:agent|from|campaign)=([^`]*)`\./g,
    replace: ' Choose one of those, e.g. `$1`.',
  },
  // call-request.ts: the server needs a campaign, and "Automatic" finds none for the agent.
  {
    forms: ['call'],
    fields: ['campaign'],
    pattern: /needs a campaign for every call: name one,(?: e\.g\. `campaign=([^`]*)`)?\./g,
    replace: (_, example: string | undefined) =>
      `needs a campaign for every call, and Automatic finds none for this agent: choose one${
        example ? `, e.g. \`${example}\`` : ''
      }.`,
  },
  // call-guards.ts, a channel calls can't be placed from: in the batch form, the one chosen to post progress in.
  {
    forms: ['batch'],
    fields: ['command'],
    pattern: /^Calls can't be placed from this channel\. Use (.+?), or ask an admin/g,
    replace:
      "Calls can't be placed from the channel chosen under Post progress in. Choose $1 there, or ask an admin",
  },
  // Any other option example: the value alone, as chosen in the field.
  {
    fields: ['agent', 'from', 'campaign'],
    pattern: /`(?:agent|from|campaign)=([^`]*)`/g,
    replace: '`$1`',
  },
];

/**
 * A refusal of the command's checks in `form`'s terms, still in mrkdwn (for the line under the call form's time field,
 * and the batch form's answer after Preview, which are mrkdwn and show `code` as code).
 */
export function formWording(field: CallField, message: string, form: FormName = 'call'): string {
  let text = message;
  for (const rewrite of REWRITES) {
    if (rewrite.forms && !rewrite.forms.includes(form)) continue;
    if (rewrite.fields && !rewrite.fields.includes(field)) continue;
    text =
      typeof rewrite.replace === 'string'
        ? text.replace(rewrite.pattern, rewrite.replace)
        : text.replace(rewrite.pattern, rewrite.replace);
  }
  return text;
}

/**
 * Slack mrkdwn as the plain text of a form's field error: `code` in quotes (“+14155552671”), a stray backtick as `'`,
 * Slack's escapes undone, and at most FIELD_ERROR_MAX characters.
 */
export function plainFieldError(mrkdwn: string): string {
  const text = mrkdwn
    .replace(/`([^`]*)`/g, '“$1”')
    .replace(/`/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return text.length > FIELD_ERROR_MAX ? `${text.slice(0, FIELD_ERROR_MAX - 1)}…` : text;
}

/** The error shown under a field of `form` for a refusal of the command's checks about `field`. */
export function formFieldError(field: CallField, message: string, form: FormName = 'call'): string {
  return plainFieldError(formWording(field, message, form));
}
