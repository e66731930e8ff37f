import type { CallRequest, CallRequestDraft } from '../calls/call-request.js';
import type { DirectoryEntry } from '../calls/directory.js';
import type { Recipient } from '../calls/phone.js';
import type { When } from '../calls/when.js';
import { IqraError } from '../iqra/errors.js';
import type { CallRecord } from '../store/store.js';
import type { CallOutcome } from './place-call.js';

/** Where the requester's time zone came from: their Slack profile, or DEFAULT_TIMEZONE. */
export type ZoneSource = 'slack' | 'default';

/** The JSON form of a call request in the store: the draft, and once resolved its time. */
interface StoredRequest {
  recipient: Recipient;
  agent: DirectoryEntry;
  number: DirectoryEntry;
  campaign?: DirectoryEntry;
  whenPhrase?: string;
  variables: Record<string, string>;
  metadata: Record<string, string>;
  force?: boolean;
  inDryRun?: true;
  when?:
    | { kind: 'now' }
    | { kind: 'scheduled'; at: string; timeZone: string; zoneSource: 'requester' | 'phrase'; phrase: string };
  requesterTimeZone?: string;
  zoneSource?: ZoneSource;
}

export function storeDraft(draft: CallRequestDraft): Record<string, unknown> {
  const stored: StoredRequest = {
    recipient: draft.recipient,
    agent: draft.agent,
    number: draft.number,
    ...(draft.campaign ? { campaign: draft.campaign } : {}),
    ...(draft.whenPhrase !== undefined ? { whenPhrase: draft.whenPhrase } : {}),
    variables: draft.variables,
    metadata: draft.metadata,
    ...(draft.force ? { force: true } : {}),
    ...(draft.inDryRun ? { inDryRun: true } : {}),
  };
  return { ...stored };
}

export function storeRequest(request: CallRequest, zoneSource: ZoneSource): Record<string, unknown> {
  const when: StoredRequest['when'] =
    request.when.kind === 'now' ? { kind: 'now' } : { ...request.when, at: request.when.at.toISOString() };
  return { ...storeDraft(request), when, requesterTimeZone: request.requesterTimeZone, zoneSource };
}

/** The draft held by a stored call (its time possibly not resolved yet). */
export function draftOf(record: CallRecord): CallRequestDraft {
  const s = record.request as unknown as StoredRequest;
  return {
    requestId: record.id,
    origin: { teamId: record.teamId, channelId: record.channelId, userId: record.userId },
    recipient: s.recipient,
    agent: s.agent,
    number: s.number,
    ...(s.campaign ? { campaign: s.campaign } : {}),
    ...(s.whenPhrase !== undefined ? { whenPhrase: s.whenPhrase } : {}),
    variables: s.variables,
    metadata: s.metadata,
    ...(s.force ? { force: true } : {}),
    ...(s.inDryRun ? { inDryRun: true } : {}),
  };
}

/** The resolved request held by a stored call, or undefined while its time is not resolved. */
export function requestOf(record: CallRecord): { request: CallRequest; zoneSource: ZoneSource } | undefined {
  const s = record.request as unknown as StoredRequest;
  if (!s.when || !s.requesterTimeZone) return undefined;
  const when: When = s.when.kind === 'now' ? { kind: 'now' } : { ...s.when, at: new Date(s.when.at) };
  return {
    request: { ...draftOf(record), when, requesterTimeZone: s.requesterTimeZone },
    zoneSource: s.zoneSource ?? 'slack',
  };
}

/** What Iqra answered, as recorded: the outcome the Slack messages are rendered from. */
export function outcomeOf(record: CallRecord): CallOutcome | undefined {
  switch (record.state) {
    case 'dry_run': {
      const parts = (record.request as { dryRun?: [string, string][] }).dryRun ?? [];
      return { state: 'queued', queueIds: [], attempts: 0, dryRun: { parts } };
    }
    case 'queued':
      return { state: 'queued', queueIds: record.queueIds, attempts: 1 };
    case 'failed':
    case 'unknown':
      return {
        state: record.state,
        error: new IqraError({
          outcome: record.state,
          reason: record.outcomeReason ?? 'UNKNOWN',
          userMessage: record.userMessage ?? 'Iqra did not confirm the call.',
          ...(record.iqraCode ? { code: record.iqraCode } : {}),
          ...(record.iqraMessage ? { iqraMessage: record.iqraMessage } : {}),
          ...(record.httpStatus ? { httpStatus: record.httpStatus } : {}),
          attempts: 1,
          retryable: false,
        }),
      };
    default:
      return undefined;
  }
}
