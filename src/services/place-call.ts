import type { CallRequest } from '../calls/call-request.js';
import type { InitiateCallInput, InitiateCallResult } from '../iqra/client.js';
import { IqraError } from '../iqra/errors.js';
import { type Logger, maskPhone } from '../log.js';

/** What the app needs of Iqra to place a call: the Iqra client satisfies it. */
export interface CallInitiator {
  initiateCall(input: InitiateCallInput): Promise<InitiateCallResult>;
}

export type CallOutcome =
  | { state: 'queued'; queueIds: string[]; attempts: number; dryRun?: { parts: [string, string][] } }
  /** `failed`: surely not placed. `unknown`: may have been placed; never re-sent automatically. */
  | { state: 'failed' | 'unknown'; error: IqraError };

/** The metadata the app attaches to every call, so that a call in Iqra leads back to its Slack request. */
export function callMetadata(request: CallRequest): Record<string, string> {
  return {
    ...request.metadata,
    SlackTeamId: request.origin.teamId,
    SlackChannelId: request.origin.channelId,
    SlackUserId: request.origin.userId,
    RequestId: request.requestId,
  };
}

export function initiateCallInput(request: CallRequest): InitiateCallInput {
  return {
    requestId: request.requestId,
    recipient: request.recipient.e164,
    agentId: request.agent.id,
    numberId: request.number.id,
    ...(request.campaign ? { campaignId: request.campaign.id } : {}),
    ...(request.when.kind === 'scheduled' ? { scheduledAt: request.when.at } : {}),
    dynamicVariables: request.variables,
    metadata: callMetadata(request),
  };
}

/**
 * Asks Iqra for the call, once. Never throws: every way it can end is a CallOutcome. An unexpected error counts as
 * `unknown`, since the request may have left the process.
 */
export async function placeCall(
  request: CallRequest,
  iqra: CallInitiator,
  logger: Logger,
): Promise<CallOutcome> {
  const log = logger.child({ requestId: request.requestId, recipient: maskPhone(request.recipient.e164) });
  try {
    const result = await iqra.initiateCall(initiateCallInput(request));
    if (result.dryRun) {
      log.info('dry run: nothing sent to Iqra', { agent: request.agent.alias });
      return { state: 'queued', queueIds: [], attempts: 0, dryRun: result.dryRun };
    }
    log.info('call queued', {
      queueIds: result.queueIds,
      attempts: result.attempts,
      agent: request.agent.alias,
    });
    return { state: 'queued', queueIds: result.queueIds, attempts: result.attempts };
  } catch (err) {
    const error =
      err instanceof IqraError
        ? err
        : new IqraError(
            {
              outcome: 'unknown',
              reason: 'INTERNAL',
              userMessage: `Something went wrong while asking Iqra for the call, so it may or may not have been placed. It was not retried, so that nobody is dialled twice: check Iqra's dashboard before trying again (request id \`${request.requestId}\`).`,
              attempts: 1,
              retryable: false,
            },
            { cause: err },
          );
    log.warn(error.outcome === 'failed' ? 'call not placed' : 'call outcome unknown', {
      reason: error.reason,
      code: error.code,
      httpStatus: error.httpStatus,
    });
    return { state: error.outcome, error };
  }
}
