import { createHmac } from 'node:crypto';

/** Slack's request signature: `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`). */
export function slackSignature(signingSecret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** The headers Slack sends with a signed, form-encoded request. */
export function signedFormHeaders(
  signingSecret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(signingSecret, timestamp, body),
  };
}

/** The form body of a `/call` slash command, with Slack's fields. */
export function slashCommandBody(o: {
  text: string;
  triggerId: string;
  responseUrl: string;
  user?: string;
  channel?: string;
  team?: string;
  /** More of Slack's fields, e.g. Enterprise Grid's `enterprise_id` and `enterprise_name`. */
  fields?: Record<string, string>;
}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: o.team ?? 'T0001',
    team_domain: 'acme',
    channel_id: o.channel ?? 'C0SALES01',
    channel_name: 'sales',
    user_id: o.user ?? 'U0MARIA1',
    user_name: 'maria',
    command: '/call',
    text: o.text,
    api_app_id: 'A0IQRA001',
    is_enterprise_install: 'false',
    response_url: o.responseUrl,
    trigger_id: o.triggerId,
    ...o.fields,
  }).toString();
}

/** POSTs a form body to the app's Slack endpoint, signed with `secret`. */
export function postSigned(
  baseUrl: string,
  body: string,
  secret: string,
  options: { headers?: Record<string, string>; timestamp?: number } = {},
): Promise<Response> {
  return fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: { ...signedFormHeaders(secret, body, options.timestamp), ...options.headers },
    body,
  });
}
