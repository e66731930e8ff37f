/**
 * The stand-ins process: the fake Slack (test/support/fake-slack.ts, with Slack's per-channel pace added) and the Iqra
 * stand-in, in a process of their own so that their work never delays the load generator's clock. Driven by the
 * bench over Node's IPC channel (bench/protocol.ts).
 */
import { FakeSlack } from '../test/support/fake-slack.js';
import { type IqraStandIn, startIqraStandIn } from './iqra-stand-in.js';
import type { FromStandIns, StandInCounts, ToStandIns } from './protocol.js';
import { SlackPace } from './slack-pace.js';

let slack: FakeSlack | undefined;
let iqra: IqraStandIn | undefined;
let pace: SlackPace | undefined;

function send(message: FromStandIns): void {
  process.send?.(message);
}

function counts(fake: FakeSlack, stand: IqraStandIn): StandInCounts {
  const result: StandInCounts = {
    usersInfo: 0,
    chatUpdate: 0,
    responseUrlPosts: fake.responses.length,
    iqraReads: stand.reads,
    otherSlackCalls: 0,
  };
  for (const call of fake.calls) {
    if (call.method === 'users.info') result.usersInfo += 1;
    else if (call.method === 'chat.update') result.chatUpdate += 1;
    else if (call.method !== 'chat.postMessage') result.otherSlackCalls += 1;
  }
  return result;
}

process.on('message', (raw: ToStandIns) => {
  void (async () => {
    switch (raw.type) {
      case 'start': {
        slack = await new FakeSlack().start();
        for (const [user, zone] of Object.entries(raw.settings.userZones)) slack.userZones.set(user, zone);
        pace = new SlackPace(slack, raw.settings.pace);
        iqra = await startIqraStandIn({ delayMs: raw.settings.iqraDelayMs });
        send({
          type: 'ready',
          slackApiUrl: slack.apiUrl,
          slackUrl: slack.url,
          iqraUrl: iqra.url,
          iqraBusinessId: iqra.businessId,
          iqraApiKey: iqra.apiKey,
        });
        return;
      }
      case 'pace':
        pace?.set(raw.pace);
        send({ type: 'paced' });
        return;
      case 'collect': {
        if (!slack || !iqra || !pace) return;
        const message: FromStandIns = {
          type: 'records',
          iqra: iqra.arrivals.splice(0),
          slack: pace.posts.splice(0),
          counts: counts(slack, iqra),
        };
        // Forget what was handed over: a long run must not grow without bound.
        slack.calls.length = 0;
        slack.responses.length = 0;
        iqra.reads = 0;
        send(message);
        return;
      }
      case 'stop':
        await slack?.close();
        await iqra?.close();
        send({ type: 'stopped' });
        process.exit(0);
    }
  })();
});

// The bench went away without saying stop: do not linger.
process.on('disconnect', () => process.exit(0));
