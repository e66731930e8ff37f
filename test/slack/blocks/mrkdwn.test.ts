import { describe, expect, it } from 'vitest';
import { context, escapeMrkdwn, mrkdwnToPlain, section } from '../../../src/slack/blocks/mrkdwn.js';

describe('mrkdwnToPlain', () => {
  it('turns what the rep was told in Slack into plain text', () => {
    expect(
      mrkdwnToPlain(
        'Agent `nosuchagent` is not configured. Ask <@U0ADMIN1> in <#C0OPS|ops> by <!date^1795798800^{date_short_pretty}|2026-11-27 17:00 UTC>.',
      ),
    ).toBe('Agent nosuchagent is not configured. Ask U0ADMIN1 in ops by 2026-11-27 17:00 UTC.');
  });

  it('undoes the escaping Slack needs', () => {
    expect(mrkdwnToPlain(escapeMrkdwn('Smith & <Jones>'))).toBe('Smith & <Jones>');
  });
});

describe('section and context', () => {
  it('keep short text as it is, with the block id when one is given', () => {
    expect(section('*Calling* +1 415…', 'call_head')).toEqual({
      type: 'section',
      block_id: 'call_head',
      text: { type: 'mrkdwn', text: '*Calling* +1 415…' },
    });
    expect(section('x')).not.toHaveProperty('block_id');
    expect(context('queued')).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'queued' }] });
  });

  it('shorten text past Slack’s 3000 characters, saying so, rather than have the message refused', () => {
    const long = 'a'.repeat(3500);
    const sectionText = (section(long).text as { text: string }).text;
    const contextText = (context(long).elements[0] as { text: string }).text;
    for (const text of [sectionText, contextText]) {
      expect(text).toHaveLength(3000);
      expect(text.endsWith('… (shortened)')).toBe(true);
    }
  });
});
