import { describe, expect, it } from 'vitest';
import { readPushedEvent } from '../../src/calls/progress.js';

// A campaign "custom tool" pushes the event, the queue status and the end type as C# enum names.
describe('readPushedEvent', () => {
  it.each([
    ['ended', 'Canceled', undefined, 'cancelled'],
    ['ended', 'Cancelled', 'NotSet', 'cancelled'],
    ['ended', 'Expired', 'NotSet', 'expired'],
    ['ended', 'Failed', 'UserEndedCall', 'failed'],
    [undefined, 'Expired', undefined, 'expired'],
  ])('event %s with status %s (end type %s) ends the call as %s', (event, status, endType, end) => {
    expect(readPushedEvent(event, status, endType)).toEqual({ progress: 'ended', end });
  });

  it.each([
    ['ended', 'ProcessedBackend', 'UserNoAnswer', 'no_answer'],
    ['ended', 'ProcessedBackend', 'VoicemailDetected', 'voicemail'],
    ['ended', 'ProcessedBackend', 'AgentEndedCall', 'completed'],
    [undefined, undefined, 'UserDeclinedOrBusy', 'busy_or_declined'],
    ['declined', 'ProcessedBackend', undefined, 'busy_or_declined'],
    ['missed', 'ProcessedBackend', undefined, 'no_answer'],
  ])('event %s with status %s and end type %s ends the call as %s', (event, status, endType, end) => {
    expect(readPushedEvent(event, status, endType)).toEqual({ progress: 'ended', end });
  });

  it.each([
    ['initiated', 'ProcessedBackend'],
    [undefined, 'ProcessedBackend'],
    ['initiated', 'ProcessingBackend'],
    ['initiated', undefined],
  ])('event %s with status %s is dialling: a session exists, nobody has answered yet', (event, status) => {
    expect(readPushedEvent(event, status, undefined)).toEqual({ progress: 'dialling' });
  });

  it('an event it cannot place is not read', () => {
    expect(readPushedEvent(undefined, 'Queued', undefined)).toBeUndefined();
    expect(readPushedEvent('something', undefined, undefined)).toBeUndefined();
  });
});
