import { afterEach, describe, expect, it } from 'vitest';
import type { SlackApiCall } from '../support/fake-slack.js';
import { appHomeOpenedEvent, sendEvent } from '../support/slack-payloads.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const inChannel = (a: TestApp, channel = 'C0SALES01'): SlackApiCall[] =>
  a.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === channel);

describe("Iqra's own words in the call's messages", () => {
  it('never ping the channel or become links: what Iqra says is quoted as plain text', async () => {
    app = await startTestApp({ iqra: { mode: 'server' } });
    const a = app;
    // Iqra's message echoes what the rep typed as a variable's value.
    a.iqra.script({
      code: 'CONFIG_DYNAMIC_VARIABLES_VALUE_INVALID',
      message: 'Invalid value "<!channel> call me" for Note; see <https://evil.example|the docs> & retry',
    });
    await a.command('+14155552671 Note="<!channel> call me"');
    const parent = await a.slack.waitFor(() => inChannel(a).find((c) => !c.args.thread_ts), 'the parent');
    const details = await a.slack.waitFor(() => inChannel(a).find((c) => c.args.thread_ts), 'the details');
    for (const message of [parent, details]) {
      const said = JSON.stringify([message.args.text, message.args.blocks]);
      expect(said).toContain('was not placed');
      expect(said).not.toContain('<!channel>');
      expect(said).not.toContain('<https://evil.example');
      expect(said).toContain('&lt;!channel&gt; call me');
    }
    // The same words on the rep's Home tab and in `/call status`.
    expect((await sendEvent(a, appHomeOpenedEvent({ user: 'U0MARIA1' }))).status).toBe(200);
    const home = await a.slack.waitFor(() => a.slack.callsOf('views.publish')[0], 'the Home tab');
    const [call] = await a.store.recentCalls('T0001', 'U0MARIA1', 1);
    const status = await a.command(`status ${call?.id}`);
    for (const said of [JSON.stringify(home.args.view), JSON.stringify(status.body)]) {
      expect(said).toContain('&lt;!channel&gt; call me');
      expect(said).not.toContain('<!channel>');
      expect(said).not.toContain('<https://evil.example');
    }
  });
});
