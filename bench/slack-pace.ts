import type { FakeSlack, SlackApiAnswer } from '../test/support/fake-slack.js';
import { clock } from './clock.js';
import type { PaceSettings, SlackPost } from './protocol.js';

interface Bucket {
  tokens: number;
  last: number;
  /** No message is accepted in this channel before this time (a Retry-After that was sent). */
  blockedUntil: number;
  /** Messages the bucket let through so far (for `inject429Every`). */
  passed: number;
}

const REQUEST_ID = /req_[0-9a-hjkmnp-tv-z]{12}/;
const BOLD_NUMBER = /\*(\+[\d ()-]{6,})\*/;

/**
 * Slack's pace for chat.postMessage on the fake Slack: about `perSecond` messages per second per channel, with short
 * bursts (a token bucket of `burst`), and 429 + Retry-After beyond it. A channel that was answered 429 stays closed
 * until its Retry-After has passed, as Slack's does: a message sent earlier gets 429 again and is marked as not
 * having waited. Every message (accepted or not) is recorded for the bench.
 */
export class SlackPace {
  readonly posts: SlackPost[] = [];
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    slack: FakeSlack,
    private settings: PaceSettings,
  ) {
    slack.handle('chat.postMessage', (args) => this.answer(args));
  }

  set(settings: PaceSettings): void {
    this.settings = settings;
    this.buckets.clear();
  }

  private answer(args: Record<string, unknown>): SlackApiAnswer | undefined {
    const at = clock();
    const channel = String(args.channel ?? '');
    const text = typeof args.text === 'string' ? args.text : '';
    const number = BOLD_NUMBER.exec(text)?.[1];
    const requestId = REQUEST_ID.exec(`${text} ${JSON.stringify(args.blocks ?? '')}`)?.[0];
    const post: SlackPost = {
      at,
      channel,
      threadTs: typeof args.thread_ts === 'string' && args.thread_ts ? args.thread_ts : undefined,
      key: number ? number.replace(/\D/g, '') : undefined,
      requestId,
      status: 200,
    };
    this.posts.push(post);

    const { perSecond, burst, inject429Every, injectedRetryAfterS } = this.settings;
    const bucket = this.buckets.get(channel) ?? { tokens: burst, last: at, blockedUntil: 0, passed: 0 };
    this.buckets.set(channel, bucket);
    bucket.tokens = Math.min(burst, bucket.tokens + ((at - bucket.last) * perSecond) / 1000);
    bucket.last = at;
    const refuse = (retryAfterS: number, inside: boolean): SlackApiAnswer => {
      post.status = 429;
      post.retryAfterS = retryAfterS;
      if (inside) post.insideRetryAfter = true;
      bucket.blockedUntil = Math.max(bucket.blockedUntil, at + retryAfterS * 1000);
      return {
        status: 429,
        headers: { 'retry-after': String(retryAfterS) },
        body: { ok: false, error: 'ratelimited' },
      };
    };
    if (at < bucket.blockedUntil) return refuse(Math.ceil((bucket.blockedUntil - at) / 1000), true);
    if (bucket.tokens < 1) return refuse(Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)), false);
    bucket.passed += 1;
    if (inject429Every > 0 && bucket.passed % inject429Every === 0) return refuse(injectedRetryAfterS, false);
    bucket.tokens -= 1;
    return undefined; // the fake's own answer: ok, with a new ts
  }
}
