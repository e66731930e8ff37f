import type { InitiateCallInput, InitiateCallResult, IqraRequestFormat } from './client.js';
import { initiateFormParts } from './client.js';

/**
 * IQRA_DRY_RUN=true: builds exactly the request that would be sent (the same multipart parts, the same checks), and
 * sends nothing. The API key is never part of it (it travels in a header, which is not shown).
 */
export class DryRunInitiator {
  constructor(
    private readonly options: { format: IqraRequestFormat; callWindowMinutes: number; now?: () => Date },
  ) {}

  async initiateCall(input: InitiateCallInput): Promise<InitiateCallResult> {
    const { parts, fields, config } = initiateFormParts(input, {
      format: this.options.format,
      callWindowMinutes: this.options.callWindowMinutes,
      now: this.options.now?.() ?? new Date(),
    });
    return { queueIds: [], attempts: 0, sentFormat: { fields, config }, dryRun: { parts } };
  }
}
