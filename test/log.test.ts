import { describe, expect, it } from 'vitest';
import { createLogger, maskPhone, scrub } from '../src/log.js';

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
});
