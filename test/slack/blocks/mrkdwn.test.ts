import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, mrkdwnToPlain } from '../../../src/slack/blocks/mrkdwn.js';

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
