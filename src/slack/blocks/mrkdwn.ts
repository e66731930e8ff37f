import type { ContextBlock, SectionBlock } from '@slack/types';

/** Escapes the three characters Slack's mrkdwn treats as markup, for text typed by people. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shortens text to Slack's limits, saying so, rather than letting Slack reject the message. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = '… (shortened)';
  return `${text.slice(0, max - note.length)}${note}`;
}

/** Slack's Block Kit limits that apply to what this app builds. */
export const LIMITS = {
  sectionText: 3000,
  field: 2000,
  fieldsPerSection: 10,
  blocksPerMessage: 50,
  fallbackText: 3000,
} as const;

/** Slack mrkdwn to plain text (e.g. for a CSV cell): date tokens to their fallback, mentions to their label or id,
 * markup and entities removed. */
export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<[@#]([A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, label?: string) => label ?? id)
    .replace(/[`*_~]/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A section of mrkdwn text, shortened to Slack's limit rather than rejected. */
export function section(text: string, blockId?: string): SectionBlock {
  return {
    type: 'section',
    ...(blockId ? { block_id: blockId } : {}),
    text: { type: 'mrkdwn', text: clip(text, LIMITS.sectionText) },
  };
}

/** A context line of mrkdwn text, shortened to Slack's limit rather than rejected. */
export function context(text: string): ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, LIMITS.sectionText) }] };
}
