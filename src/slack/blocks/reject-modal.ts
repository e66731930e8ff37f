import type { View } from '@slack/types';
import { REJECT_MODAL, REJECT_REASON_BLOCK, REJECT_REASON_INPUT } from './call-messages.js';
import { clip } from './mrkdwn.js';

/** The callback id of the reject modal of a batch (its private_metadata holds `{ batchId }`). */
export const REJECT_BATCH_MODAL = 'reject_batch_modal';

/**
 * The small modal Reject opens: an optional reason, shown to the requester. For a call (`requestId`), or for a whole
 * batch (`batchId`).
 */
export function rejectModal(requestId: string, summary: string, what: 'call' | 'batch' = 'call'): View {
  return {
    type: 'modal',
    callback_id: what === 'batch' ? REJECT_BATCH_MODAL : REJECT_MODAL,
    private_metadata: JSON.stringify(what === 'batch' ? { batchId: requestId } : { requestId }),
    title: { type: 'plain_text', text: what === 'batch' ? 'Reject the batch' : 'Reject the call' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(summary, 3000) } },
      {
        type: 'input',
        block_id: REJECT_REASON_BLOCK,
        optional: true,
        label: { type: 'plain_text', text: 'Reason (the requester sees it)' },
        element: {
          type: 'plain_text_input',
          action_id: REJECT_REASON_INPUT,
          multiline: true,
          max_length: 500,
          placeholder: { type: 'plain_text', text: 'e.g. This lead asked not to be called before January.' },
        },
      },
    ],
  };
}
