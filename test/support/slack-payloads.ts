/**
 * Slack's interactivity and Events API payloads, built the way Slack builds them from the views the app opened:
 * `view_submission` (with `state.values` filled from the view's inputs), `block_actions` from a view, `message_action`
 * and `shortcut`, and signed `event_callback` JSON bodies. Send interactivity payloads with `TestApp.interact`.
 */
import { slackSignature } from './slack-signature.js';
import { SIGNING_SECRET, type TestApp } from './test-app.js';

/** A view as the app sent it (views.open / views.update / views.publish `view` argument, parsed). */
export type SentView = {
  type: string;
  callback_id?: string;
  private_metadata?: string;
  title?: unknown;
  close?: unknown;
  external_id?: string;
  blocks: SentBlock[];
};

export type SentBlock = {
  type: string;
  block_id?: string;
  optional?: boolean;
  dispatch_action?: boolean;
  text?: { type: string; text: string };
  label?: { text: string };
  hint?: { text: string };
  elements?: { type: string; text?: string; action_id?: string }[];
  element?: SentElement;
};

export type SentElement = {
  type: string;
  action_id: string;
  initial_value?: string;
  initial_option?: { text: { text: string }; value: string };
  initial_conversation?: string;
  default_to_current_conversation?: boolean;
  response_url_enabled?: boolean;
  options?: { text: { text: string }; value: string }[];
  placeholder?: { text: string };
};

const TEAM = { id: 'T0001', domain: 'acme' };
let sequence = 0;
const next = () => {
  sequence += 1;
  return sequence;
};

/** The views the app opened with views.open, oldest first, with the trigger_id each was opened with. */
export function openedViews(a: TestApp): { triggerId: string; view: SentView }[] {
  return a.slack
    .callsOf('views.open')
    .map((c) => ({ triggerId: String(c.args.trigger_id), view: c.args.view as SentView }));
}

/** The input block `blockId` of a view, or undefined. */
export function inputBlock(view: SentView, blockId: string): SentBlock | undefined {
  return view.blocks.find((b) => b.type === 'input' && b.block_id === blockId);
}

/**
 * What the rep put in the form: per block id, the text typed, the value of the option chosen, or the conversation
 * chosen; null for a field left empty. Fields not mentioned keep what the view filled them in with.
 */
export type FormInput = Record<string, string | null>;

type StateValue = Record<string, unknown>;

/** `view.state.values` as Slack sends it for `view` filled in with `input`. */
export function stateValues(
  view: SentView,
  input: FormInput = {},
): Record<string, Record<string, StateValue>> {
  const values: Record<string, Record<string, StateValue>> = {};
  for (const block of view.blocks) {
    const element = block.element;
    if (block.type !== 'input' || !block.block_id || !element) continue;
    const given = block.block_id in input ? input[block.block_id] : undefined;
    const kept = !(block.block_id in input);
    let value: StateValue;
    switch (element.type) {
      case 'plain_text_input':
        value = { type: element.type, value: kept ? (element.initial_value ?? null) : given };
        break;
      case 'static_select': {
        const chosen = kept
          ? element.initial_option
          : given === null || given === undefined
            ? undefined
            : (element.options?.find((o) => o.value === given) ?? {
                text: { type: 'plain_text', text: given },
                value: given,
              });
        value = { type: element.type, selected_option: chosen ?? null };
        break;
      }
      case 'conversations_select':
        value = {
          type: element.type,
          selected_conversation: kept ? (element.initial_conversation ?? null) : given,
        };
        break;
      case 'number_input':
        value = { type: element.type, value: kept ? (element.initial_value ?? null) : given };
        break;
      case 'radio_buttons': {
        const chosen = kept ? element.initial_option : element.options?.find((o) => o.value === given);
        value = { type: element.type, selected_option: chosen ?? null };
        break;
      }
      case 'file_input':
        // The file ids given (comma-separated), as Slack lists the files uploaded in the input.
        value = {
          type: element.type,
          files: kept || !given ? [] : given.split(',').map((id) => ({ id, name: `${id}.csv` })),
        };
        break;
      default:
        value = { type: element.type };
    }
    values[block.block_id] = { [element.action_id]: value };
  }
  return values;
}

function viewOutput(view: SentView, o: { viewId: string; hash: string; input?: FormInput }) {
  return {
    id: o.viewId,
    team_id: TEAM.id,
    type: view.type,
    callback_id: view.callback_id ?? '',
    private_metadata: view.private_metadata ?? '',
    title: view.title,
    blocks: view.blocks,
    state: { values: stateValues(view, o.input) },
    hash: o.hash,
    root_view_id: o.viewId,
    previous_view_id: null,
    clear_on_close: false,
    notify_on_close: false,
    app_id: 'A0IQRA001',
    bot_id: 'BBOT',
  };
}

/** A `view_submission` of `view` filled in with `input`. Same `viewId` and `hash`: the same submission again. */
export function viewSubmission(
  a: TestApp,
  view: SentView,
  o: { input?: FormInput; user?: string; viewId?: string; hash?: string } = {},
): Record<string, unknown> {
  const n = next();
  const user = o.user ?? 'U0MARIA1';
  const viewId = o.viewId ?? `V0MODAL${n}`;
  const output = viewOutput(view, {
    viewId,
    hash: o.hash ?? `${n}.hash`,
    ...(o.input ? { input: o.input } : {}),
  });
  // A conversations_select with response_url_enabled gives a response_url for the chosen channel.
  const responseUrls = view.blocks.flatMap((b) => {
    const chosen = b.block_id
      ? (output.state.values[b.block_id]?.[b.element?.action_id ?? '']?.selected_conversation as
          | string
          | null)
      : null;
    return b.element?.type === 'conversations_select' && b.element.response_url_enabled && chosen
      ? [
          {
            block_id: b.block_id,
            action_id: b.element.action_id,
            channel_id: chosen,
            response_url: a.slack.responseUrl(`view-${n}`),
          },
        ]
      : [];
  });
  return {
    type: 'view_submission',
    team: TEAM,
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEAM.id },
    api_app_id: 'A0IQRA001',
    token: 'legacy-verification-token',
    trigger_id: `${4000 + n}.98765.submit${n}`,
    view: output,
    response_urls: responseUrls,
    is_enterprise_install: false,
  };
}

/** A `block_actions` payload from an element in a view (e.g. Enter pressed in a dispatch_action input). */
export function viewBlockAction(
  view: SentView,
  o: {
    blockId: string;
    actionId: string;
    /** The element's payload fields, e.g. `{ type: 'plain_text_input', value: '…' }`. */
    action: Record<string, unknown>;
    input?: FormInput;
    user?: string;
    viewId?: string;
    hash?: string;
  },
): Record<string, unknown> {
  const n = next();
  const user = o.user ?? 'U0MARIA1';
  const viewId = o.viewId ?? `V0VIEW${n}`;
  return {
    type: 'block_actions',
    team: TEAM,
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEAM.id },
    api_app_id: 'A0IQRA001',
    token: 'legacy-verification-token',
    container: { type: 'view', view_id: viewId },
    trigger_id: `${5000 + n}.98765.action${n}`,
    view: viewOutput(view, { viewId, hash: o.hash ?? `${n}.hash`, ...(o.input ? { input: o.input } : {}) }),
    actions: [{ block_id: o.blockId, action_id: o.actionId, action_ts: `${Date.now() / 1000}`, ...o.action }],
  };
}

/** A message shortcut (`message_action`) used on `message` in `channel`. */
export function messageShortcut(
  a: TestApp,
  o: {
    callbackId: string;
    message: { ts: string; text?: string; blocks?: unknown[]; thread_ts?: string; user?: string };
    channel?: string;
    user?: string;
  },
): Record<string, unknown> & { response_url: string; trigger_id: string } {
  const n = next();
  const user = o.user ?? 'U0MARIA1';
  return {
    type: 'message_action',
    callback_id: o.callbackId,
    trigger_id: `${6000 + n}.98765.message${n}`,
    message_ts: o.message.ts,
    response_url: a.slack.responseUrl(`shortcut-${n}`),
    message: { type: 'message', user: o.message.user ?? 'U0CUSTOMR', ...o.message },
    user: { id: user, name: user.toLowerCase(), username: user.toLowerCase(), team_id: TEAM.id },
    channel: { id: o.channel ?? 'C0SALES01', name: 'sales' },
    team: TEAM,
    token: 'legacy-verification-token',
    action_ts: `${Date.now() / 1000}`,
    is_enterprise_install: false,
  };
}

/** A global shortcut (`shortcut`) from the shortcuts menu. */
export function globalShortcut(o: { callbackId: string; user?: string }): Record<string, unknown> & {
  trigger_id: string;
} {
  const n = next();
  const user = o.user ?? 'U0MARIA1';
  return {
    type: 'shortcut',
    callback_id: o.callbackId,
    trigger_id: `${7000 + n}.98765.shortcut${n}`,
    user: { id: user, username: user.toLowerCase(), team_id: TEAM.id },
    team: TEAM,
    token: 'legacy-verification-token',
    action_ts: `${Date.now() / 1000}`,
    is_enterprise_install: false,
  };
}

/** The `app_home_opened` event for `user` on `tab`. */
export function appHomeOpenedEvent(
  o: { user?: string; tab?: 'home' | 'messages' } = {},
): Record<string, unknown> {
  return {
    type: 'app_home_opened',
    user: o.user ?? 'U0MARIA1',
    channel: 'D0APPHOME1',
    tab: o.tab ?? 'home',
    event_ts: `${Date.now() / 1000}`,
  };
}

/** Sends an Events API `event_callback` carrying `event`, as a signed JSON body; resolves with Bolt's answer. */
export async function sendEvent(
  a: TestApp,
  event: Record<string, unknown>,
): Promise<{ status: number; body: string }> {
  const n = next();
  const body = JSON.stringify({
    token: 'legacy-verification-token',
    team_id: TEAM.id,
    api_app_id: 'A0IQRA001',
    event,
    type: 'event_callback',
    event_id: `Ev0TEST${n}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: TEAM.id, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
  const timestamp = Math.floor(Date.now() / 1000);
  const res = await fetch(`${a.url}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(SIGNING_SECRET, timestamp, body),
    },
    body,
  });
  return { status: res.status, body: await res.text() };
}

/** An Enterprise Grid organisation the tests' workspace T0001 belongs to. */
export const GRID = { enterpriseId: 'E0ACMEORG', enterpriseName: 'Acme Corp' };

/**
 * An interactivity payload as Slack sends it from a workspace of an Enterprise Grid organisation: an `enterprise`
 * object, the team's `enterprise_id`, and the user's `team_id` their home workspace, which is not the workspace the
 * action happened in (`team.id`) when they work in several of the organisation's workspaces (slackapi/bolt-js#1875).
 */
export function inEnterpriseGrid<T extends Record<string, unknown>>(
  payload: T,
  o: { userTeamId: string },
): T {
  const team = payload.team as { id: string; domain?: string } | undefined;
  const user = payload.user as Record<string, unknown>;
  return {
    ...payload,
    enterprise: { id: GRID.enterpriseId, name: GRID.enterpriseName },
    ...(team
      ? { team: { ...team, enterprise_id: GRID.enterpriseId, enterprise_name: GRID.enterpriseName } }
      : {}),
    user: { ...user, team_id: o.userTeamId },
    is_enterprise_install: false,
  };
}
