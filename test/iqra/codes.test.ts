import { describe, expect, it } from 'vitest';
import { explainIqraCode } from '../../src/iqra/codes.js';

const Q = 'InitiateCall:QueueCallInitiationRequestAsync:';
const V = 'InitiateCall:ValidateUserAPIAndBusinessWithPermissions:';

/** The generic answer for codes this app does not know; no documented code may get it. */
const GENERIC = /an error this app does not know/;

// Every code in the published reference and in the server notes, with the group its explanation must speak to.
const DOCUMENTED: ReadonlyArray<readonly [code: string, reason: string, mustSay: RegExp]> = [
  // the reference
  ['InitiateCall:INSUFFICIENT_BALANCE', 'INSUFFICIENT_BALANCE', /out of credit.*top up/s],
  ['InitiateCall:INVALID_NUMBER', 'INVALID_NUMBER', /not a valid phone number.*international format/s],
  ['InitiateCall:INVALID_AGENT', 'INVALID_AGENT', /agent.*IQRA_AGENTS/s],
  ['InitiateCall:INVALID_NUMBER_ID', 'INVALID_NUMBER_ID', /caller-ID number.*IQRA_NUMBERS/s],
  ['InitiateCall:PERMISSION_DENIED', 'PERMISSION_DENIED', /“Make call” permission.*Full access/s],
  ['InitiateCall:BUSINESS_DISABLED', 'BUSINESS_DISABLED', /business.*is disabled/s],
  [
    'InitiateCall:EXCEPTION',
    'EXCEPTION',
    /may have placed this call.*internal error.*dashboard.*campaign id is unknown.*number cannot be read/s,
  ],
  // the real server
  [`${Q}CONFIG_NUMBER_TO_NUMBER_INVALID`, 'CONFIG_NUMBER_TO_NUMBER_INVALID', /not a valid phone number/],
  [
    `${Q}FORM_DATA_CONFIG_NOT_FOUND`,
    'FORM_DATA_CONFIG_NOT_FOUND',
    /`config` part.*IQRA_REQUEST_FORMAT=both or config/s,
  ],
  [`${Q}CONFIG_CAMPAIGN_ID_NOT_FOUND`, 'CONFIG_CAMPAIGN_ID_NOT_FOUND', /needs a campaign.*IQRA_CAMPAIGNS/s],
  [
    `${Q}CONFIG_SCHEDULE_DATETIMEUTC_PARSE_ERROR`,
    'CONFIG_SCHEDULE_DATETIMEUTC_PARSE_ERROR',
    /could not read the time/,
  ],
  [
    `${Q}CONFIG_SCHEDULE_MAXDATETIMEUTC_PARSE_ERROR`,
    'CONFIG_SCHEDULE_MAXDATETIMEUTC_PARSE_ERROR',
    /could not read the time/,
  ],
  [
    `${Q}CONFIG_DYNAMIC_VARIABLES_VALUE_INVALID`,
    'CONFIG_DYNAMIC_VARIABLES_VALUE_INVALID',
    /did not accept one of the call variables/,
  ],
  [
    `${Q}CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND`,
    'CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND',
    /requires variables that were not given/,
  ],
  [`${Q}CAMPAIGN_AGENT_NOT_FOUND`, 'CAMPAIGN_AGENT_NOT_FOUND', /campaign.*has no AI agent/s],
  [
    'InitiateCall:ForwardCallInitiationRequestAsync:BUSINESS_NUMBER_NOT_FOUND',
    'BUSINESS_NUMBER_NOT_FOUND',
    /caller-ID number.*IQRA_NUMBERS/s,
  ],
  [
    'InitiateCall:ForwardCallInitiationRequestAsync:BUSINESS_NUMBER_VOICE_DISABLED',
    'BUSINESS_NUMBER_VOICE_DISABLED',
    /does not have voice calling enabled/,
  ],
  [`${V}VALIDATE_API_KEY:API_KEY_INVALID`, 'API_KEY_INVALID', /did not accept the API key.*IQRA_API_KEY/s],
  [`${V}RESTRICTED_API_KEY`, 'RESTRICTED_API_KEY', /restricted.*IQRA_API_KEY/s],
  [`${V}BUSINESS_DISABLED`, 'BUSINESS_DISABLED', /IQRA_BUSINESS_ID\) is disabled/],
  [`${V}BUSINESS_EDITING_DISABLED`, 'BUSINESS_EDITING_DISABLED', /editing turned off/],
  ['InitiateCall:CheckModulePermission:MAKECALL_FULL', 'MAKECALL_FULL', /“Make call” permission/],
];

describe('explainIqraCode', () => {
  it.each(DOCUMENTED)('%s has its own plain-language explanation', (code, reason, mustSay) => {
    const explained = explainIqraCode(code, 'Some message from Iqra');
    expect(explained.reason).toBe(reason);
    expect(explained.userMessage).toMatch(mustSay);
    expect(explained.userMessage).not.toMatch(GENERIC);
  });

  it.each(DOCUMENTED)(
    '%s says whether Iqra may have queued the call (only EXCEPTION may)',
    (code, reason) => {
      const explained = explainIqraCode(code, 'Some message from Iqra');
      expect(explained.mayHaveQueued).toBe(reason === 'EXCEPTION');
      if (!explained.mayHaveQueued) expect(explained.userMessage).not.toMatch(/may have placed/);
    },
  );

  it('a code from after the call was queued (adding it to its group failed) may have queued it', () => {
    // Iqra's server queues the call, then answers this when adding the queue entry to its group fails.
    const explained = explainIqraCode(
      'InitiateCall:ForwardCallInitiationRequestAsync:ForwardSingleCallToRegionProxy:2',
      'Failed to add outbound call queue to campaign.',
    );
    expect(explained.mayHaveQueued).toBe(true);
    expect(explained.userMessage).toMatch(/may have placed this call.*not retried.*dashboard/s);
    expect(explained.userMessage).toContain('“Failed to add outbound call queue to campaign.”');
  });

  it('matches on the last segment, whatever comes before it', () => {
    expect(explainIqraCode('InitiateCall:INSUFFICIENT_BALANCE').userMessage).toBe(
      explainIqraCode('InitiateCall:SomeNewStep:AnotherStep:INSUFFICIENT_BALANCE').userMessage,
    );
    expect(explainIqraCode('  InitiateCall:INVALID_AGENT ').reason).toBe('INVALID_AGENT');
  });

  it.each(['INVALID_FORMAT', 'KEY_NOT_FOUND', 'API_KEY_INVALID', 'INVALID_NUMBER', 'EXPIRED'])(
    'any VALIDATE_API_KEY code is an API-key problem (…:VALIDATE_API_KEY:%s)',
    (last) => {
      const explained = explainIqraCode(`${V}VALIDATE_API_KEY:${last}`);
      expect(explained.reason).toBe('API_KEY_INVALID');
      expect(explained.userMessage).toContain('IQRA_API_KEY');
      expect(explained.userMessage).not.toMatch(/phone number/);
    },
  );

  it('an unknown code shows Iqra’s own message and the code', () => {
    const explained = explainIqraCode(
      'InitiateCall:Somewhere:BRAND_NEW_CODE',
      'Calls to this region are paused.',
    );
    expect(explained.reason).toBe('BRAND_NEW_CODE');
    expect(explained.userMessage).toContain('“Calls to this region are paused.”');
    expect(explained.userMessage).toContain('InitiateCall:Somewhere:BRAND_NEW_CODE');
  });

  it('an unknown code without a message says that Iqra did not say why, and that the call may have been queued', () => {
    const explained = explainIqraCode('InitiateCall:BRAND_NEW_CODE');
    expect(explained.mayHaveQueued).toBe(true);
    expect(explained.userMessage).toMatch(
      /may have placed this call.*Iqra did not say why.*before trying again/s,
    );
  });

  it('an empty code is a generic Iqra error that still quotes the message', () => {
    const explained = explainIqraCode('', 'Something odd');
    expect(explained.reason).toBe('IQRA_ERROR');
    expect(explained.userMessage).toContain('Something odd');
  });

  it.each([
    ["Required dynamic variable 'RenewalDate' not found.", 'It is missing: RenewalDate.'],
    ['Required dynamic variables not found: RenewalDate, PlanName', 'It is missing: RenewalDate, PlanName.'],
  ])('names the missing required variables when Iqra does (%s)', (message, expected) => {
    const explained = explainIqraCode(`${Q}CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND`, message);
    expect(explained.userMessage).toContain(expected);
  });

  it('quotes Iqra’s message for required variables when it names none, and says where to look when it is empty', () => {
    const code = `${Q}CONFIG_DYNAMIC_VARIABLES_REQUIRED_NOT_FOUND`;
    expect(explainIqraCode(code, 'some variables are missing').userMessage).toContain(
      'Iqra says: “some variables are missing”',
    );
    expect(explainIqraCode(code).userMessage).toContain('campaign’s settings in Iqra');
  });

  it('EXCEPTION quotes Iqra’s message', () => {
    const explained = explainIqraCode(
      'InitiateCall:EXCEPTION',
      'Object reference not set to an instance of an object.',
    );
    expect(explained.userMessage).toContain('Object reference not set');
  });

  it('shortens a very long Iqra message', () => {
    const explained = explainIqraCode('InitiateCall:NEW_THING', 'x'.repeat(5000));
    // Iqra's message is cut to 300 characters; the rest is this app's own explanation.
    expect(explained.userMessage).toContain(`“${'x'.repeat(299)}…”`);
    expect(explained.userMessage.length).toBeLessThan(800);
    expect(explained.userMessage).toContain('…');
  });
});

describe('codes of other versions of Iqra’s server (all answered before anything is queued)', () => {
  it.each([
    [
      'InitiateCall:ValidateAPIUserAndBusinessSessionAsync:ValidateUserAPIAsync:INVALID_API_KEY',
      'INVALID_API_KEY',
      /did not accept the API key/,
    ],
    [
      'InitiateCall:ValidateAPIUserAndBusinessSessionAsync:ValidateUserAPIAsync:USER_DISABLED',
      'USER_DISABLED',
      /user.*is disabled/s,
    ],
    [
      'InitiateCall:ValidateAPIUserAndBusinessSessionAsync:GetUserBusinessById:NOT_OWNED',
      'NOT_OWNED',
      /refused this app’s access.*IQRA_API_KEY and IQRA_BUSINESS_ID/s,
    ],
    ['InitiateCall:BUSINESS_CALLING_DISABLED', 'BUSINESS_CALLING_DISABLED', /outbound calling turned off/],
    [
      'InitiateCall:BUSINESS_MONTHLY_MINUTE_CAP_EXCEEDED',
      'BUSINESS_MONTHLY_MINUTE_CAP_EXCEEDED',
      /monthly call minutes/,
    ],
    [`${Q}CAMPAIGN_NOT_FOUND`, 'CAMPAIGN_NOT_FOUND', /campaign.*IQRA_CAMPAIGNS/s],
    [`${Q}CONFIG_METADATA_VALUE_INVALID`, 'CONFIG_METADATA_VALUE_INVALID', /metadata values/],
    [
      `${Q}CONFIG_SCHEDULE_TYPE_NOT_FOUND`,
      'CONFIG_SCHEDULE_TYPE_NOT_FOUND',
      /details of this call request.*IQRA_REQUEST_FORMAT/s,
    ],
    [`${Q}FORM_DATA_CONFIG_EMPTY`, 'FORM_DATA_CONFIG_EMPTY', /`config` part/],
    [
      'InitiateCall:ForwardCallInitiationRequestAsync:GetBusinessNumberIdForToNumber:TO_NUMBER_GET_REGION_FAILED',
      'TO_NUMBER_GET_REGION_FAILED',
      /not a valid phone number/,
    ],
  ] as const)('%s: failed, explained', (code, reason, mustSay) => {
    const explained = explainIqraCode(code, 'Some message from Iqra');
    expect(explained).toMatchObject({ reason, mayHaveQueued: false });
    expect(explained.userMessage).toMatch(mustSay);
    expect(explained.userMessage).not.toMatch(GENERIC);
  });

  it('a code of a step after the checks stays "may have queued"', () => {
    const code =
      'InitiateCall:ForwardCallInitiationRequestAsync:ForwardSingleCallToRegionProxy:OUTBOUND_CALL_QUEUE_ENQUEUE_ERROR';
    expect(explainIqraCode(code).mayHaveQueued).toBe(true);
  });
});
