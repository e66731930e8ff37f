import { describe, expect, it } from 'vitest';
import { type CallCatalog, draftCallRequest, openChoices } from '../../src/calls/call-request.js';
import type { CallCommand } from '../../src/calls/command.js';
import { Directory } from '../../src/calls/directory.js';
import { CallRequestError } from '../../src/calls/errors.js';

const sales = { alias: 'sales', id: 'agent_1' };
const support = { alias: 'support', id: 'agent_2' };
const main = { alias: 'main', id: 'num_1' };
const backup = { alias: 'backup', id: 'num_2' };
const salesCampaign = { alias: 'sales', id: 'camp_1' };
const webinar = { alias: 'webinar', id: 'camp_2' };

function catalog(o: Partial<CallCatalog> = {}): CallCatalog {
  return {
    agents: new Directory('agent', [sales, support], undefined),
    numbers: new Directory('number', [main, backup], main),
    campaigns: new Directory('campaign', [salesCampaign, webinar], undefined),
    campaignRequired: false,
    defaultRegion: 'US',
    ...o,
  };
}

const call = (rest: Partial<CallCommand> = {}): CallCommand => ({
  kind: 'call',
  recipient: '+14155552671',
  variables: {},
  metadata: {},
  ...rest,
});

function refusal(fn: () => unknown): CallRequestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CallRequestError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('openChoices', () => {
  it('is empty when the command names or the settings choose everything', () => {
    expect(openChoices(call({ agent: 'sales' }), catalog())).toEqual([]);
  });

  it('lists the agent and the number when neither is named and there is no default', () => {
    const numbers = new Directory('number', [main, backup], undefined);
    expect(openChoices(call(), catalog({ numbers }))).toEqual(['agent', 'from']);
  });

  it('lists the campaign when the server needs one and none is named or follows from the agent', () => {
    expect(openChoices(call({ agent: 'support' }), catalog({ campaignRequired: true }))).toEqual([
      'campaign',
    ]);
    expect(openChoices(call({ agent: 'sales' }), catalog({ campaignRequired: true }))).toEqual([]);
    expect(
      openChoices(call({ agent: 'support', campaign: 'webinar' }), catalog({ campaignRequired: true })),
    ).toEqual([]);
  });

  it('leaves nothing to choose when nothing is configured: the draft says what is wrong', () => {
    const agents = new Directory('agent', [], undefined);
    expect(openChoices(call(), catalog({ agents }))).toEqual([]);
    expect(
      refusal(() =>
        draftCallRequest(call(), catalog({ agents }), { teamId: 'T', channelId: 'C', userId: 'U' }, 'r'),
      ).userMessage,
    ).toContain('No agents are configured');
  });

  it('refuses what is named and wrong, with the command’s messages, before anything is left open', () => {
    expect(refusal(() => openChoices(call({ recipient: '+1234567890' }), catalog())).field).toBe('recipient');
    const wrongNumber = refusal(() => openChoices(call({ from: 'nope' }), catalog()));
    expect(wrongNumber.field).toBe('from');
    expect(wrongNumber.userMessage).toContain("I don't know the number “nope”");
    expect(refusal(() => openChoices(call({ agent: 'sales', campaign: 'nope' }), catalog())).field).toBe(
      'campaign',
    );
  });
});
