import type { CountryCode } from 'libphonenumber-js';
import type { CallCommand } from './command.js';
import type { Directory, DirectoryEntry } from './directory.js';
import { CallRequestError } from './errors.js';
import { checkHygiene } from './hygiene.js';
import { normalizeRecipient, type Recipient } from './phone.js';
import type { When } from './when.js';

/** Who asked for a call, and where the answer goes. */
export interface CallOrigin {
  teamId: string;
  channelId: string;
  userId: string;
}

/** A call the rep asked for, checked and resolved against the configuration, not yet timed. */
export interface CallRequestDraft {
  requestId: string;
  origin: CallOrigin;
  recipient: Recipient;
  agent: DirectoryEntry;
  number: DirectoryEntry;
  campaign?: DirectoryEntry;
  /** The time phrase as typed, resolved later in the requester's zone. */
  whenPhrase?: string;
  variables: Record<string, string>;
  metadata: Record<string, string>;
  /** An admin asked to place it outside calling hours (`force`). */
  force?: boolean;
  /**
   * Recorded while IQRA_DRY_RUN was on: it is never sent to Iqra, even when it is processed after a restart without dry
   * run (an approval decided later, a request recovered, a batch's row whose turn comes later).
   */
  inDryRun?: true;
}

/** A draft with its time resolved: everything needed to ask Iqra for the call. */
export interface CallRequest extends CallRequestDraft {
  when: When;
  /** The zone the time was read in (the requester's Slack zone, or the default). */
  requesterTimeZone: string;
}

export interface CallCatalog {
  agents: Directory;
  numbers: Directory;
  campaigns: Directory;
  /** With `config`, Iqra needs a campaign for every call. */
  campaignRequired: boolean;
  defaultRegion: CountryCode;
}

/**
 * Checks a parsed command against the configuration: the number, the agent, the caller-ID number and the campaign.
 * Throws a CallRequestError naming the field on the first problem; sends nothing anywhere.
 */
export function draftCallRequest(
  command: CallCommand,
  catalog: CallCatalog,
  origin: CallOrigin,
  requestId: string,
): CallRequestDraft {
  const recipient = normalizeRecipient(command.recipient, catalog.defaultRegion);
  const { agent, number, campaign } = resolveChoices(command, catalog);
  checkHygiene(command.variables, command.metadata);
  return {
    requestId,
    origin,
    recipient,
    agent,
    number,
    ...(campaign ? { campaign } : {}),
    ...(command.when !== undefined ? { whenPhrase: command.when } : {}),
    variables: command.variables,
    metadata: command.metadata,
    ...(command.force ? { force: true } : {}),
  };
}

/**
 * The agent, caller-ID number and campaign a request names, or the settings choose for it. Throws a CallRequestError
 * naming the field on the first problem (the agent first: the campaign may depend on it).
 */
export function resolveChoices(
  command: Pick<CallCommand, 'agent' | 'from' | 'campaign'>,
  catalog: CallCatalog,
): { agent: DirectoryEntry; number: DirectoryEntry; campaign?: DirectoryEntry } {
  const agent = pick(catalog.agents, command.agent, 'agent', 'agent');
  const number = pick(catalog.numbers, command.from, 'from', 'from');
  const campaign = resolveCampaign(command, catalog, agent);
  return { agent, number, ...(campaign ? { campaign } : {}) };
}

function pick(
  directory: Directory,
  name: string | undefined,
  key: string,
  field: 'agent' | 'from',
): DirectoryEntry {
  if (name !== undefined) return directory.resolve(name);
  if (directory.fallback) return directory.fallback;
  throw new CallRequestError(
    field,
    directory.entries.length === 0
      ? `No ${directory.kind}s are configured: ask an admin to set ${directory.kind === 'agent' ? 'IQRA_AGENTS' : 'IQRA_NUMBERS'}.`
      : `Say which ${directory.kind} to use, e.g. \`${key}=${directory.entries[0]?.alias}\`. Configured: ${directory.describeAliases()}.`,
  );
}

/** The campaign used when none is named: the one whose alias is the agent's alias, else the default campaign. */
export function automaticCampaign(catalog: CallCatalog, agent: DirectoryEntry): DirectoryEntry | undefined {
  const { campaigns } = catalog;
  const byAgent = campaigns.entries.find((c) => c.alias.toLowerCase() === agent.alias.toLowerCase());
  return byAgent ?? campaigns.fallback;
}

/** `campaign=` wins; else the campaign whose alias is the agent's alias; else the default campaign. */
function resolveCampaign(
  command: Pick<CallCommand, 'campaign'>,
  catalog: CallCatalog,
  agent: DirectoryEntry,
): DirectoryEntry | undefined {
  const { campaigns } = catalog;
  if (command.campaign !== undefined) return campaigns.resolve(command.campaign);
  const campaign = automaticCampaign(catalog, agent);
  if (!campaign && catalog.campaignRequired) {
    const example = campaigns.entries[0] ? ` e.g. \`campaign=${campaigns.entries[0].alias}\`` : '';
    throw new CallRequestError(
      'campaign',
      `This Iqra server needs a campaign for every call: name one,${example}. Configured: ${campaigns.describeAliases()}.`,
    );
  }
  return campaign;
}

/** A choice a command may leave open, for the rep to make in the modal. */
export type OpenChoice = 'agent' | 'from' | 'campaign';

/**
 * The choices a command leaves open that the settings do not make: no agent named and no default agent; no
 * caller-ID number named and no default; a campaign the server needs (`IQRA_REQUEST_FORMAT=config`) and none named or
 * resolvable for the agent. Only choices there is something to choose from count. Anything the command does name is
 * checked first, with draftCallRequest's rules and messages, so that a wrong request is refused (throws a
 * CallRequestError) and only a right but incomplete one is completed in the modal.
 */
export function openChoices(command: CallCommand, catalog: CallCatalog): OpenChoice[] {
  normalizeRecipient(command.recipient, catalog.defaultRegion);
  const agent = command.agent !== undefined ? catalog.agents.resolve(command.agent) : catalog.agents.fallback;
  const number =
    command.from !== undefined ? catalog.numbers.resolve(command.from) : catalog.numbers.fallback;
  const campaign = command.campaign !== undefined ? catalog.campaigns.resolve(command.campaign) : undefined;
  const open: OpenChoice[] = [];
  if (!agent && catalog.agents.entries.length > 0) open.push('agent');
  if (!number && catalog.numbers.entries.length > 0) open.push('from');
  if (
    agent &&
    !campaign &&
    catalog.campaignRequired &&
    catalog.campaigns.entries.length > 0 &&
    !automaticCampaign(catalog, agent)
  ) {
    open.push('campaign');
  }
  return open;
}
