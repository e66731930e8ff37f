import type { KnownBlock, SectionBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { DoctorCheck } from '../../../src/services/doctor.js';
import { doctorMessage } from '../../../src/slack/blocks/doctor.js';

const sectionTexts = (blocks: KnownBlock[]) =>
  blocks.filter((b): b is SectionBlock => b.type === 'section').map((b) => b.text?.text ?? '');

describe('doctorMessage', () => {
  it('shows a summary, then each part with its lines and fixes', () => {
    const checks: DoctorCheck[] = [
      { section: 'slack', status: 'ok', text: 'The bot token works: @iqra_calls in Acme (T0001).' },
      {
        section: 'iqra',
        status: 'fail',
        text: '`IQRA_AGENTS`: `support` (`agent_support_02`) is not an agent of business 12345.',
        fix: 'Copy the right id from Iqra.',
      },
      { section: 'guards', status: 'warn', text: 'No admins.', fix: 'Set `CALL_ADMINS`.' },
    ];
    const message = doctorMessage(checks);
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
    expect(JSON.stringify(message.blocks[1])).toContain(
      '❌ Something needs fixing: 1 problem, 1 warning, 1 fine',
    );
    expect(sectionTexts(message.blocks)).toEqual([
      '*Slack*\n✅ The bot token works: @iqra_calls in Acme (T0001).',
      '*Iqra*\n❌ `IQRA_AGENTS`: `support` (`agent_support_02`) is not an agent of business 12345.\n        ↳ _Fix:_ Copy the right id from Iqra.',
      '*Guards*\n⚠️ No admins.\n        ↳ _Fix:_ Set `CALL_ADMINS`.',
    ]);
    expect(message.text).toBe(
      'Iqra Calls doctor: 1 problem, 1 warning, 1 fine.\n❌ `IQRA_AGENTS`: `support` (`agent_support_02`) is not an agent of business 12345.',
    );
  });

  it('escapes what came from elsewhere (names from Iqra) so that it cannot mention or link', () => {
    const message = doctorMessage([
      { section: 'iqra', status: 'ok', text: 'Business “<!channel> & co” answers.' },
    ]);
    expect(sectionTexts(message.blocks)[0]).toContain('“&lt;!channel&gt; &amp; co”');
  });

  it("stays within Slack's limits however long the report", () => {
    const long = (i: number): DoctorCheck => ({
      section: (['slack', 'iqra', 'store', 'guards'] as const)[i % 4] ?? 'slack',
      status: i % 3 === 0 ? 'fail' : 'warn',
      text: `Check ${i}: ${'a very long explanation '.repeat(60)}`,
      fix: `Fix ${i}: ${'do this and that '.repeat(40)}`,
    });
    const message = doctorMessage(Array.from({ length: 400 }, (_, i) => long(i)));
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    for (const text of sectionTexts(message.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    expect(message.text.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(message.blocks.at(-1))).toContain('left out to fit Slack');
  });

  it('says all is well when nothing is ❌', () => {
    const message = doctorMessage([{ section: 'store', status: 'ok', text: 'The database answers.' }]);
    expect(JSON.stringify(message.blocks[1])).toContain(
      '✅ Nothing is broken: 0 problems, 0 warnings, 1 fine',
    );
  });
});
