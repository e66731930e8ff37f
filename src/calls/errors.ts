/**
 * The part of a call request a problem belongs to. The modal (a later issue) shows an error next to this field;
 * the command shows it as one line of the ephemeral answer.
 */
export type CallField =
  | 'command'
  | 'recipient'
  | 'agent'
  | 'from'
  | 'campaign'
  | 'when'
  | 'variables'
  | 'metadata';

/**
 * Something is wrong with what the requester asked for. `userMessage` is written for the rep: it says what is wrong
 * and how to write it instead. Nothing has been sent to Iqra when this is thrown.
 */
export class CallRequestError extends Error {
  override readonly name = 'CallRequestError';

  constructor(
    readonly field: CallField,
    readonly userMessage: string,
  ) {
    super(userMessage);
  }
}
