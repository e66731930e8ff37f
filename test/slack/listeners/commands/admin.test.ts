import { afterEach, describe, expect, it } from 'vitest';
import { openedViews, viewSubmission } from '../../../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../../../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const ADMINS = { CALL_ADMINS: 'U0MARIA1' };

interface Answer {
  response_type: string;
  text: string;
  blocks: { type: string; text?: { type: string; text: string } }[];
}

/** Sends `/call <text>` and returns its ack, the answer the user sees. */
async function answer(a: TestApp, text: string, user?: string): Promise<Answer> {
  const sent = await a.command(text, user ? { user } : {});
  expect(sent.status).toBe(200);
  return sent.body as Answer;
}

/** What the blocks say, section by section, each within Slack's limit and with no date token cut in two. */
function sectionsOf(body: Answer): string[] {
  expect(body.blocks.length).toBeLessThanOrEqual(50);
  return body.blocks.map((b) => {
    const text = b.text?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(3000);
    // Not cut by `clip` at the section's limit.
    expect(text.length === 3000 && text.endsWith('… (shortened)')).toBe(false);
    // Every `<` opens a token that is closed on the same line.
    for (const line of text.split('\n')) expect(line).not.toMatch(/<[^>]*$/);
    return text;
  });
}

describe('/call dnc', () => {
  it('adds, refuses a duplicate, an invalid number and a non-admin, and escapes the reason', async () => {
    app = await startTestApp({ env: ADMINS });
    const a = app;
    expect((await answer(a, 'dnc add +14155552671 said <stop> & *no*')).text).toBe(
      'Added *+1 415 555 2671* to the do-not-call list. No call to it will be placed.',
    );
    expect((await answer(a, 'dnc add (415) 555-2671')).text).toBe(
      '*+1 415 555 2671* was already on the do-not-call list.',
    );
    expect((await answer(a, 'dnc add 12')).text).toContain('`12` is not a valid number');
    expect((await answer(a, 'dnc add +14155552672', 'U0OTHER01')).text).toBe(
      'Only admins (<@U0MARIA1>) can change or list the do-not-call list.',
    );
    const list = await answer(a, 'dnc list');
    expect(list.response_type).toBe('ephemeral');
    expect(sectionsOf(list).join('\n')).toContain('· said &lt;stop&gt; &amp; *no*');
    expect(sectionsOf(list).join('\n')).not.toContain('+1 415 555 2672');
    // Anyone may check; only admins see the reason.
    const checked = await answer(a, 'dnc check +14155552671', 'U0OTHER01');
    expect(checked.text).toContain('it is on the do-not-call list');
    expect(checked.text).not.toContain('stop');
  });

  it('lists 50 of a long list whole, in as many sections as they need, and says how many more there are', async () => {
    app = await startTestApp({ env: ADMINS });
    const a = app;
    expect((await a.command('dnc import')).status).toBe(200);
    const form = await a.slack.waitFor(() => openedViews(a)[0], 'the import form');
    const numbers = Array.from({ length: 60 }, (_, i) => `+1415555${1000 + i}`);
    const pasted = numbers.map((n, i) => `${n},asked not to be called (${i})`).join('\n');
    const imported = await a.interact(viewSubmission(a, form.view, { input: { dnc_lines: pasted } }));
    expect(imported.body).toContain('*Added:* 60');

    const sections = sectionsOf(await answer(a, 'dnc list'));
    expect(sections.length).toBeGreaterThan(1);
    const text = sections.join('\n');
    expect(text).toContain('*Do-not-call list* (60 numbers)');
    const shown = text.split('\n').filter((l) => l.startsWith('*+1 415 555'));
    expect(shown).toHaveLength(50);
    for (const line of shown) expect(line).toMatch(/<!date\^\d+\^[^>]+> · asked not to be called \(\d+\)$/);
    expect(text).toContain('…and 10 more.');
  });

  it('lists the main number of a number written with an extension, and its calls are refused', async () => {
    app = await startTestApp({ env: ADMINS });
    const a = app;
    expect((await answer(a, 'dnc add +14155552671x204')).text).toBe(
      'Added *+1 415 555 2671* to the do-not-call list (it was written with the extension `204`: the list holds the ' +
        'main number, the one calls go to). No call to it will be placed.',
    );
    expect((await answer(a, 'dnc check tel:+14155552671;ext=204', 'U0OTHER01')).text).toContain(
      'it is on the do-not-call list',
    );

    // The same from the import form, as a CRM export writes them: none is rejected as invalid.
    expect((await a.command('dnc import')).status).toBe(200);
    const form = await a.slack.waitFor(() => openedViews(a)[0], 'the import form');
    const imported = await a.interact(
      viewSubmission(a, form.view, {
        input: { dnc_lines: '+1 415 555 2672 x204,asked us to stop\n"(415) 555-2673 ext. 9","Ada"' },
      }),
    );
    expect(imported.body).toContain('*Added:* 2');
    expect(imported.body).toContain('*Rejected as invalid:* 0');
    expect((await a.store.findDnc('T0001', '+14155552672'))?.reason).toBe('asked us to stop');

    // Calls to those numbers, written without the extension (as they must be), are stopped.
    for (const number of ['+14155552671', '+14155552672', '(415) 555-2673']) {
      await a.command(number, { user: 'U0OTHER01' });
    }
    await a.slack.waitFor(
      () =>
        a.slack.responses.filter((r) => JSON.stringify(r.body).includes('is on the do-not-call list'))
          .length === 3 && true,
      'three refusals',
    );
    expect(a.iqra.requests).toHaveLength(0);
  });
  it("lists every number of a row that holds several, each with the row's other cells as its reason", async () => {
    app = await startTestApp({ env: ADMINS });
    const a = app;
    await answer(a, 'dnc add +14155552672');
    expect((await a.command('dnc import')).status).toBe(200);
    const form = await a.slack.waitFor(() => openedViews(a)[0], 'the import form');
    const imported = await a.interact(
      viewSubmission(a, form.view, {
        input: {
          dnc_lines: [
            'name,phone,mobile,note',
            'Ada, +1 415 555 2671, +1 415 555 2672, moved',
            '"Grace","(646) 555-0199","+44 20 7183 8750"',
            // One number and a cell that looks like one but is not: as before, that cell is part of the reason.
            'Alan,+1 212 555 0143,555-12-34',
            'Edsger, 12345678, no number here',
          ].join('\n'),
        },
      }),
    );
    const body = JSON.parse(imported.body) as { view: { blocks: { text: { text: string } }[] } };
    const summary = body.view.blocks[0]?.text.text ?? '';
    expect(summary).toContain('*Added:* 4');
    expect(summary).toContain('*Skipped as duplicates:* 1');
    expect(summary).toContain('*Rejected as invalid:* 1');
    expect(summary).toContain('Edsger, 12345678, no number here');
    expect((await a.store.findDnc('T0001', '+14155552671'))?.reason).toBe('Ada, moved');
    // Listed before, by `dnc add`: kept as it was.
    expect((await a.store.findDnc('T0001', '+14155552672'))?.reason).toBeUndefined();
    expect((await a.store.findDnc('T0001', '+16465550199'))?.reason).toBe('Grace');
    expect((await a.store.findDnc('T0001', '+442071838750'))?.reason).toBe('Grace');
    expect((await a.store.findDnc('T0001', '+12125550143'))?.reason).toBe('Alan, 555-12-34');
    const audit = (await a.store.auditLog('T0001', 5)).find((e) => e.action === 'dnc:import');
    expect(audit?.detail).toEqual({ added: 4, duplicates: 1, rejected: 1 });

    // The second number of a row is refused like the first.
    await a.command('+44 20 7183 8750', { user: 'U0OTHER01' });
    await a.slack.waitFor(
      () => a.slack.responses.find((r) => JSON.stringify(r.body).includes('is on the do-not-call list')),
      'the refusal',
    );
    expect(a.iqra.requests).toHaveLength(0);
  });
});

describe('/call audit', () => {
  it('refuses 0, 1000 and words, and non-admins, recording the refusal as every refusal is', async () => {
    app = await startTestApp({ env: ADMINS });
    const a = app;
    for (const text of ['audit 0', 'audit 1000', 'audit abc']) {
      expect((await answer(a, text)).text).toContain(
        'Write `/call audit` or `/call audit 50` (up to 100 entries).',
      );
    }
    expect((await answer(a, 'audit', 'U0OTHER01')).text).toBe(
      'Only admins (<@U0MARIA1>) can read the audit log.',
    );
    expect((await answer(a, 'audit')).text).toContain('<@U0OTHER01> · `refused:audit` · reason=not an admin');
  });

  it('shows all of `/call audit 100`, each entry whole, long details shortened', async () => {
    app = await startTestApp({ env: ADMINS });
    const a = app;
    const now = Date.now();
    for (let i = 0; i < 120; i++) {
      await a.store.audit({
        teamId: 'T0001',
        at: now + i,
        actor: 'U0MARIA1',
        action: 'dnc:add',
        target: `+1415555${1000 + i}`,
        detail: { reason: i === 119 ? `<b>${'x'.repeat(2000)}` : `entry ${i}` },
      });
    }
    const sections = sectionsOf(await answer(a, 'audit 100'));
    const text = sections.join('\n');
    expect(text).toContain('*Audit log* (latest 100)');
    const entries = text.split('\n').filter((l) => l.startsWith('<!date^'));
    expect(entries).toHaveLength(100);
    // Newest first, down to the 100th newest.
    expect(entries[0]).toContain('reason=&lt;b&gt;xxx');
    expect(entries[0]?.length).toBeLessThan(400);
    expect(entries[99]).toContain('`+14155551020` · reason=entry 20');
  });
});
