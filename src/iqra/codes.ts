/**
 * Plain-language explanations of the codes Iqra's `call/initiate` answers with `success: false`.
 *
 * Codes come from two sources: the published reference (`InitiateCall:INSUFFICIENT_BALANCE`, ...) and the real
 * server, which nests them (`InitiateCall:QueueCallInitiationRequestAsync:CONFIG_CAMPAIGN_ID_NOT_FOUND`). Matching is
 * on the last colon-separated segment, except that any `VALIDATE_API_KEY` segment makes it an API-key problem
 * whatever follows it (`...:VALIDATE_API_KEY:INVALID_FORMAT`, `...:VALIDATE_API_KEY:KEY_NOT_FOUND`, ...), and that a
 * last segment not known here, nested under one of Iqra's checking steps (`ValidateAPIUserAndBusinessSessionAsync`,
 * `ValidateUserAPIAsync`, `CheckModulePermission`, ...), is a refusal of the app's access. Versions of Iqra's server
 * differ (a wrong key is `...:VALIDATE_API_KEY:API_KEY_INVALID` in one, `...:ValidateUserAPIAsync:INVALID_API_KEY`
 * in another), so every check of the request's `config` part (`CONFIG_…`, `FORM_DATA_…`) counts as one too.
 *
 * The messages are read by a sales rep; when an admin has to change something they name the setting
 * (IQRA_API_KEY, IQRA_AGENTS, IQRA_NUMBERS, IQRA_CAMPAIGNS, IQRA_BUSINESS_ID, IQRA_REQUEST_FORMAT).
 *
 * `success: false` does not always mean that nothing was queued. The codes in the tables below are answered while
 * Iqra checks the request, before it queues anything. But Iqra's server answers `EXCEPTION` from one catch around
 * the whole call/initiate action, and queues a call before its last step (adding the queue entry to its group, which
 * fails with `ForwardSingleCallToRegionProxy:2`): so `EXCEPTION`, and any code not known here, may come after the call
 * was queued. Those are `mayHaveQueued`: the call must not be placed again without checking Iqra first.
 */

export interface IqraCodeExplanation {
  /** The last segment of the code (or `API_KEY_INVALID` for any `VALIDATE_API_KEY` code). */
  reason: string;
  userMessage: string;
  /** Iqra may have queued the call before answering with this code (`EXCEPTION`, or a code not known here). */
  mayHaveQueued: boolean;
}

const MAX_QUOTED_MESSAGE = 300;

type Explain = (iqraMessage: string | undefined) => string;

const API_KEY: Explain = () =>
  'Iqra did not accept the API key this app uses, so the call was not placed. ' +
  'An admin must set a valid key in IQRA_API_KEY (Iqra dashboard → API keys) for the business in ' +
  'IQRA_BUSINESS_ID. Nothing was queued; try again once it is fixed.';

const RESTRICTED_KEY: Explain = () =>
  'The Iqra API key this app uses is restricted and may not place calls for this business, so the call was not ' +
  'placed. An admin must lift the restriction in Iqra (API keys) or put an unrestricted key in IQRA_API_KEY.';

const PERMISSION: Explain = () =>
  'The Iqra user behind this app’s API key is not allowed to place calls (it needs the “Make call” permission ' +
  'with Full access). Nothing was queued. An admin must grant that permission in Iqra, or set a key of a user ' +
  'who has it in IQRA_API_KEY.';

const BALANCE: Explain = () =>
  'Iqra refused the call: the Iqra account is out of credit or package minutes. Nothing was queued. ' +
  'Ask an Iqra admin to top up the balance, then try again.';

const INVALID_NUMBER: Explain = () =>
  'Iqra says the number you asked to call is not a valid phone number, so the call was not placed. ' +
  'Check it and write it in full international format (for example +14155552671), then try again.';

const UNKNOWN_AGENT: Explain = () =>
  'Iqra does not know the AI agent chosen for this call, or the agent is disabled, so the call was not placed. ' +
  'Pick another agent, or ask an admin to check the agent ids in IQRA_AGENTS against Iqra’s dashboard.';

const CAMPAIGN_AGENT: Explain = () =>
  'The Iqra campaign used for this call has no AI agent (or its agent was deleted), so the call was not placed. ' +
  'Pick another campaign, or ask an admin to assign an agent to the campaign in Iqra, or to fix IQRA_CAMPAIGNS.';

const FROM_NUMBER: Explain = () =>
  'Iqra does not know the caller-ID number chosen for this call, so the call was not placed. Pick another ' +
  '“from” number, or ask an admin to check the number ids in IQRA_NUMBERS (and the numbers of the campaigns in ' +
  'IQRA_CAMPAIGNS) against Iqra’s dashboard.';

const FROM_NUMBER_VOICE: Explain = () =>
  'The caller-ID number chosen for this call does not have voice calling enabled in Iqra, so the call was not ' +
  'placed. Pick another “from” number, or ask an admin to enable voice on it in Iqra or fix IQRA_NUMBERS / ' +
  'IQRA_CAMPAIGNS.';

const CAMPAIGN_MISSING: Explain = () =>
  'This Iqra server needs a campaign for every call (it takes the agent and caller-ID number from the campaign), ' +
  'and none was sent, so the call was not placed. Pick a campaign, or ask an admin to set IQRA_CAMPAIGNS ' +
  '(and IQRA_DEFAULT_CAMPAIGN).';

const CONFIG_PART_MISSING: Explain = () =>
  'This Iqra server reads the `config` part of the request, which this app did not send, so the call was not ' +
  'placed. An admin must set IQRA_REQUEST_FORMAT=both or config and give a campaign (IQRA_CAMPAIGNS).';

const SCHEDULE: Explain = () =>
  'Iqra could not read the time this call was scheduled for, so the call was not placed. Try again with a ' +
  'different time, or without one to call now; if it keeps happening, tell an admin.';

const VARIABLE_VALUE: Explain = (m) =>
  'Iqra did not accept one of the call variables (each must be plain text), so the call was not placed.' +
  (m ? ` Iqra says: “${quote(m)}”.` : '') +
  ' Check the variables you gave and try again.';

const VARIABLES_REQUIRED: Explain = (m) => {
  const names = m ? namesIn(m) : [];
  const which =
    names.length > 0
      ? ` It is missing: ${names.join(', ')}.`
      : m
        ? ` Iqra says: “${quote(m)}”.`
        : ' Iqra did not say which ones; an admin can see them in the campaign’s settings in Iqra.';
  return (
    `The Iqra campaign for this call requires variables that were not given, so the call was not placed.${which}` +
    ' Add them to the request (for example `CustomerName=Jane Doe`) and try again.'
  );
};

const BUSINESS_DISABLED: Explain = () =>
  'The Iqra business this app calls for (IQRA_BUSINESS_ID) is disabled, so the call was not placed. ' +
  'An admin must re-enable it with Iqra, or fix IQRA_BUSINESS_ID.';

const USER_DISABLED: Explain = () =>
  'The Iqra user behind this app’s API key is disabled, so the call was not placed. An admin must re-enable ' +
  'that user in Iqra, or set the key of an active user in IQRA_API_KEY.';

const EDITING_DISABLED: Explain = () =>
  'The Iqra business (IQRA_BUSINESS_ID) has editing turned off, which also blocks placing calls, so the call was ' +
  'not placed. An admin must turn editing back on in Iqra’s dashboard.';

const CALLING_DISABLED: Explain = (m) =>
  'Iqra has outbound calling turned off for this business (IQRA_BUSINESS_ID), so the call was not placed.' +
  (m ? ` Iqra says: “${quote(m)}”.` : '') +
  ' An admin must have it turned back on with Iqra.';

const MINUTE_CAP: Explain = () =>
  'Iqra refused the call: this business has used up its monthly call minutes (its minute cap in Iqra). Nothing was ' +
  'queued. Ask an Iqra admin to raise the cap, or try again next month.';

const BUSINESS_NOT_FOUND: Explain = () =>
  'Iqra does not know the business this app calls for (IQRA_BUSINESS_ID) under the user of its API key, so the ' +
  'call was not placed. An admin must check IQRA_BUSINESS_ID and IQRA_API_KEY against Iqra’s dashboard.';

const UNKNOWN_CAMPAIGN: Explain = () =>
  'Iqra does not know the campaign chosen for this call, so the call was not placed. Pick another campaign, or ask ' +
  'an admin to check the campaign ids in IQRA_CAMPAIGNS against Iqra’s dashboard.';

const METADATA_VALUE: Explain = (m) =>
  'Iqra did not accept one of the call’s metadata values (each must be non-empty text), so the call was not placed.' +
  (m ? ` Iqra says: “${quote(m)}”.` : '') +
  ' Check the `meta.` values you gave and try again; if you gave none, tell an admin.';

/** A check of Iqra's that this app has no words for, but that Iqra makes before it queues anything. */
const REFUSED_BY_CHECK =
  (what: string, who: string): Explain =>
  (m) =>
    `Iqra refused ${what}, so the call was not placed (nothing was queued).` +
    (m ? ` Iqra says: “${quote(m)}”.` : ' Iqra did not say why.') +
    ` ${who}`;

/** Iqra's checks of the request's `config` part that have no entry above (another server version's). */
const CONFIG_REFUSED = REFUSED_BY_CHECK(
  'the details of this call request',
  'If it keeps happening, show this message to an admin: this Iqra server may expect another request format ' +
    '(IQRA_REQUEST_FORMAT).',
);

/** Iqra's checks of the API key, its user and the business. */
const ACCESS_REFUSED = REFUSED_BY_CHECK(
  'this app’s access',
  'An admin must check IQRA_API_KEY and IQRA_BUSINESS_ID (and that the key’s user and the business are enabled ' +
    'in Iqra).',
);

const SERVER_ERROR: Explain = (m) =>
  'Iqra may have placed this call: it answered with an internal error' +
  (m ? ` (Iqra says: “${quote(m)}”)` : '') +
  ', which it also gives when a later step fails after the call was queued. It was not retried, to avoid dialling ' +
  'the customer twice: check Iqra’s dashboard (call queue) before trying again. Iqra answers this way too when the ' +
  'campaign id is unknown or the phone number cannot be read: if the dashboard shows no call, check the number, and ' +
  'if it looks right ask an admin to check the campaign ids in IQRA_CAMPAIGNS.';

/** Keyed by the last segment of the code. */
const BY_SEGMENT: Readonly<Record<string, Explain>> = {
  INSUFFICIENT_BALANCE: BALANCE,
  INVALID_NUMBER: INVALID_NUMBER,
  CONFIG_NUMBER_TO_NUMBER_INVALID: INVALID_NUMBER,
  INVALID_AGENT: UNKNOWN_AGENT,
  CAMPAIGN_AGENT_NOT_FOUND: CAMPAIGN_AGENT,
  INVALID_NUMBER_ID: FROM_NUMBER,
  BUSINESS_NUMBER_NOT_FOUND: FROM_NUMBER,
  BUSINESS_NUMBER_VOICE_DISABLED: FROM_NUMBER_VOICE,
  CONFIG_CAMPAIGN_ID_NOT_FOUND: CAMPAIGN_MISSING,
  FORM_DATA_CONFIG_NOT_FOUND: CONFIG_PART_MISSING,
  CONFIG_SCHEDULE_DATETIMEUTC_PARSE_ERROR: SCHEDULE,
  CONFIG_SCHEDULE_MAXDATETIMEUTC_PARSE_ERROR: SCHEDULE,
  CONFIG_DYNAMIC_VARIABLES_VALUE_INVALID: VARIABLE_VALUE,
  CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND: VARIABLES_REQUIRED,
  BUSINESS_DISABLED: BUSINESS_DISABLED,
  USER_DISABLED: USER_DISABLED,
  BUSINESS_EDITING_DISABLED: EDITING_DISABLED,
  API_KEY_INVALID: API_KEY,
  RESTRICTED_API_KEY: RESTRICTED_KEY,
  PERMISSION_DENIED: PERMISSION,
  MAKECALL_FULL: PERMISSION,
  // Iqra's open-source server, other versions than the notes' (abdofallah/IqraAI: UserAPIValidationHelper,
  // APIv1BusinessCallController, BusinessMakeCallManager). All are answered before anything is queued.
  INVALID_API_KEY: API_KEY,
  BUSINESSES_DISABLED: BUSINESS_DISABLED,
  USER_BUSINESS_DISABLED: BUSINESS_DISABLED,
  BUSINESS_CALLING_DISABLED: CALLING_DISABLED,
  BUSINESS_MONTHLY_MINUTE_CAP_EXCEEDED: MINUTE_CAP,
  BUSINESS_NOT_FOUND: BUSINESS_NOT_FOUND,
  CAMPAIGN_NOT_FOUND: UNKNOWN_CAMPAIGN,
  CONFIG_METADATA_VALUE_INVALID: METADATA_VALUE,
  FORM_DATA_CONFIG_EMPTY: CONFIG_PART_MISSING,
  CALL_CONFIG_MISSING: CONFIG_PART_MISSING,
  TO_NUMBER_PARSE_FAILED: INVALID_NUMBER,
  TO_NUMBER_GET_REGION_FAILED: INVALID_NUMBER,
};

/** Codes that are spelled slightly differently across Iqra versions, matched by pattern after the table. */
const BY_PATTERN: ReadonlyArray<readonly [RegExp, Explain]> = [
  [/^CONFIG_SCHEDULE_.*(PARSE_ERROR|INVALID)$/, SCHEDULE],
  [/^CONFIG_DYNAMIC_VARIABLES?_.*REQUIRED/, VARIABLES_REQUIRED],
  [/^CONFIG_DYNAMIC_VARIABLES?_.*INVALID$/, VARIABLE_VALUE],
  [/^(?:API_KEY_|VALIDATE_API_KEY)|^INVALID_API_KEY$|_API_KEY_INVALID$/, API_KEY],
  // Every other check of the request's `config` part (CONFIG_SCHEDULE_TYPE_NOT_FOUND, CONFIG_DESERIALIZATION_ERROR,
  // CALL_CONFIG_INVALID, ...) comes before anything is queued.
  [/^(?:CONFIG|FORM_DATA|CALL_CONFIG)_/, CONFIG_REFUSED],
];

/**
 * Steps of Iqra's server that only check the key, its user, the business and its permissions, before anything is
 * queued (`InitiateCall:ValidateAPIUserAndBusinessSessionAsync:...`, `...:ValidateUserAPIAsync:...`,
 * `...:CheckModulePermission:...`): a code nested under one of them, whatever its last segment, queued nothing.
 */
const CHECK_STEP = /^(?:VALIDATE(?:USERAPI|APIUSER)|CHECKMODULEPERMISSION$)/;

/**
 * Explains an Iqra error code for the rep. Unknown codes show Iqra's own message. The API key is never part of
 * the answer (this function never sees it).
 */
export function explainIqraCode(code: string, iqraMessage?: string): IqraCodeExplanation {
  const message = iqraMessage?.trim() || undefined;
  const segments = code
    .split(':')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const upper = segments.map((s) => s.toUpperCase());
  if (upper.includes('VALIDATE_API_KEY')) {
    return { reason: 'API_KEY_INVALID', userMessage: API_KEY(message), mayHaveQueued: false };
  }
  const last = upper.at(-1);
  if (last === undefined) {
    return { reason: 'IQRA_ERROR', userMessage: unknownCode(undefined, message), mayHaveQueued: true };
  }
  if (last === 'EXCEPTION') return { reason: last, userMessage: SERVER_ERROR(message), mayHaveQueued: true };
  const explain = BY_SEGMENT[last] ?? BY_PATTERN.find(([pattern]) => pattern.test(last))?.[1];
  if (explain) return { reason: last, userMessage: explain(message), mayHaveQueued: false };
  if (upper.slice(0, -1).some((s) => CHECK_STEP.test(s))) {
    return { reason: last, userMessage: ACCESS_REFUSED(message), mayHaveQueued: false };
  }
  return { reason: last, userMessage: unknownCode(code.trim(), message), mayHaveQueued: true };
}

/** A code not known here: Iqra may have queued the call before answering it. */
function unknownCode(code: string | undefined, message: string | undefined): string {
  const withCode = code ? ` (code ${code})` : '';
  const said = message ? ` Iqra says: “${quote(message)}”.` : ' Iqra did not say why.';
  return (
    `Iqra may have placed this call: it answered with an error this app does not know${withCode}, and may have ` +
    `queued the call before answering.${said} It was not retried, to avoid dialling the customer twice: check ` +
    'Iqra’s dashboard (call queue) before trying again, and show this message to an admin.'
  );
}

function quote(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_QUOTED_MESSAGE ? `${oneLine.slice(0, MAX_QUOTED_MESSAGE - 1)}…` : oneLine;
}

/** Names in quotes, brackets or backticks in Iqra's message: `Required variable 'CustomerName' not found` → CustomerName. */
function namesIn(message: string): string[] {
  const names = new Set<string>();
  for (const m of message.matchAll(/['"`‘“[{]([A-Za-z_][\w.-]{0,63})['"`’”\]}]/g)) {
    if (m[1]) names.add(m[1]);
  }
  if (names.size === 0) {
    // "... not found: CustomerName, AccountNumber"
    const after = /:\s*([A-Za-z_][\w.-]*(?:\s*,\s*[A-Za-z_][\w.-]*)*)\s*\.?$/.exec(message.trim());
    for (const name of after?.[1]?.split(',') ?? []) names.add(name.trim());
  }
  return [...names];
}
