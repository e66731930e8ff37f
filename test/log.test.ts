import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLogger, maskPhone, redactUrl, scrub } from '../src/log.js';

/** The one line a logger wrote for `fields`, parsed. */
function logged(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l) }).error('failed', fields);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '{}');
}

describe('logs', () => {
  it('mask phone numbers to their last four digits', () => {
    expect(maskPhone('+14155552671')).toBe('+*******2671');
    expect(scrub('calling +1 (415) 555-2671 now')).toBe('calling +*******2671 now');
    expect(scrub('uk 020 7183 8750')).toBe('uk *******8750');
  });

  it('leave ids that merely contain digits alone (queue ids, request ids)', () => {
    expect(scrub('queue e3c1b1234567890663e6751c and req_7k2m9qx4htbd')).toBe(
      'queue e3c1b1234567890663e6751c and req_7k2m9qx4htbd',
    );
  });

  it('leave short numbers alone (ports, counts, years)', () => {
    expect(scrub('port 3000 in 2026, 12 calls')).toBe('port 3000 in 2026, 12 calls');
  });

  it('redact Slack tokens, Iqra keys and fields named like secrets', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.info('token xoxb-123-456-abc and key iu_abc_def', {
      apiKey: 'plain',
      authorization: 'Token x',
      nested: { signingSecret: 's' },
    });
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry.msg).toBe('token [redacted token] and key [redacted key]');
    expect(entry.apiKey).toBe('[redacted]');
    expect(entry.authorization).toBe('[redacted]');
    expect(entry.nested.signingSecret).toBe('[redacted]');
  });

  it('respect the level and carry child fields', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) }).child({ requestId: 'req_1' });
    log.info('hidden');
    log.warn('shown');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'warn', msg: 'shown', requestId: 'req_1' });
  });

  it('mask numbers run into letters, URL-encoded, or split or set apart by / and _', () => {
    const masked: [string, string][] = [
      ['+14155552671abc', '+*******2671abc'],
      ['tel4155552671', 'tel******2671'],
      ['TEL4155552671', 'TEL******2671'],
      ['%2B14155552671', '%2B*******2671'],
      ['tel%3A%2B14155552671', 'tel%3A%2B*******2671'],
      ['%2B1%20415%20555%202671', '%2B*******2671'],
      ['to=%204155552671', 'to=%20******2671'],
      ['calls/+14155552671/x', 'calls/+*******2671/x'],
      ['num_14155552671', 'num_*******2671'],
      ['+1/415/555/2671', '+*******2671'],
      ['1_415_555_2671', '*******2671'],
      // An id glued to the front does not hide a number after it.
      ['id e3c1b12 4155552671', 'id e3c1b12 ******2671'],
    ];
    for (const [text, expected] of masked) expect(scrub(text), text).toBe(expected);
  });

  it('leave alone what logs carry that is not a phone number', () => {
    for (const text of [
      // Slack ids, message timestamps (also in a permalink), request and batch ids.
      'user U0123ABCD in C0B000123 of T0001, enterprise user W0123456789',
      'ts 1732791234.123456 thread_ts=1732791234.123456',
      'https://acme.slack.com/archives/C0B000123/p1732791234123456',
      'req_7k2m9qx4htbd req_123456789012 bat_1234567890',
      // ISO dates and times, and dates written with slashes or dots.
      '2026-11-28T10:00:00.000Z 2026-11-28 10:00 2026-11-28T10:00:00.123456+05:30 10:00:00.123456',
      '28/11/2026 2026/11/28 28.11.2026',
      // Durations and sizes, HTTP statuses, ports and addresses.
      'after 3m 24s, 1500ms, 1234567ms, 1234567 ms, 12345678 bytes',
      'HTTP 503, status=429, port 3000, 127.0.0.1:54321, 192.168.100.200:8080',
      // Iqra's queue ids (hexadecimal, however many digits they have in a row) and UUIDs.
      'queues 6650f0c2a1b2c3d4e5f60799 e3c1b1234567890663e6751c 6650123456789abcdeffedcb',
      'envelope 550e8400-e29b-41d4-a716-446655440000',
    ]) {
      expect(scrub(text)).toBe(text);
    }
    // Next to a number, they are still left alone, and the number is still masked.
    expect(scrub('ts=1732791234.123456 to 4155552671 at 2026-11-28 10:00')).toBe(
      'ts=1732791234.123456 to ******2671 at 2026-11-28 10:00',
    );
  });

  it('hide the password and secret parameters of URLs, in any text', () => {
    expect(redactUrl('https://user:pass@iqra.example.com')).toBe('https://user:***@iqra.example.com');
    expect(redactUrl('https://ops:p@ss@proxy.example/iqra')).toBe('https://ops:***@proxy.example/iqra');
    expect(redactUrl('https://:tok3n@proxy.example')).toBe('https://:***@proxy.example');
    expect(
      redactUrl(
        'https://h.example/x?X-Amz-Signature=abc&X-Amz-Credential=c&sig=s&api_key=k&page=2#access_token=t',
      ),
    ).toBe(
      'https://h.example/x?X-Amz-Signature=***&X-Amz-Credential=***&sig=***&api_key=***&page=2#access_token=***',
    );
    expect(redactUrl('postgres://app:pw@db:5432/calls?sslpassword=x&application_name=iqra')).toBe(
      'postgres://app:***@db:5432/calls?sslpassword=***&application_name=iqra',
    );
    // Nothing to hide: kept as written (no trailing slash added, the user name and the port kept).
    for (const url of ['https://app.iqra.bot', 'https://user@host.example:8080/p?lang=en', 'not a url']) {
      expect(redactUrl(url)).toBe(url);
    }
    expect(scrub('cannot reach https://ops:hunter2@proxy.example/iqra?token=abc, giving up')).toBe(
      'cannot reach https://ops:***@proxy.example/iqra?token=***, giving up',
    );
  });
});

describe('logged errors', () => {
  it('carry their cause, so a "fetch failed" shows the ECONNREFUSED under it', async () => {
    // A port nothing listens on: a real fetch to it fails with its cause.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const err = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);

    const { err: written } = logged({ err }) as { err: Record<string, unknown> };
    expect(written).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(written.cause).toMatchObject({ code: 'ECONNREFUSED' });
    expect(JSON.stringify(written.cause)).toContain(`127.0.0.1:${port}`);
  });

  it("scrub causes and an AggregateError's errors as they scrub the rest, and stop at the nesting limit", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED calling +14155552671'), {
      code: 'ECONNREFUSED',
    });
    const cause = new AggregateError(
      [refused],
      'https://ops:hunter2@proxy.example/iqra token xoxb-123-456-abc',
    );
    const err = new Error('fetch failed', { cause });
    const line = logged({ err });
    const text = JSON.stringify(line);
    for (const secret of ['hunter2', 'xoxb-123', '4155552671']) expect(text).not.toContain(secret);
    expect(line.err).toEqual({
      name: 'Error',
      message: 'fetch failed',
      cause: {
        name: 'AggregateError',
        message: 'https://ops:***@proxy.example/iqra token [redacted token]',
        errors: [
          { name: 'Error', message: 'connect ECONNREFUSED calling +*******2671', code: 'ECONNREFUSED' },
        ],
      },
    });

    // A chain longer than the limit (or a cause that is its own cause) ends in a marker, not in an endless line.
    const looping = new Error('outer +14155552671');
    looping.cause = looping;
    const deep = logged({ err: looping }).err as Record<string, unknown>;
    expect(JSON.stringify(deep)).toContain('[nested too deep]');
    expect(JSON.stringify(deep)).not.toContain('4155552671');
    let levels = 0;
    for (let e: unknown = deep; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) levels++;
    expect(levels).toBe(3);
  });
});
