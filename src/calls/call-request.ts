import type { CountryCode } from 'libphonenumber-js';
import type { CallCommand } from './command.js';
import type { Directory, DirectoryEntry } from './directory.js';
import { CallRequestError } from './errors.js';
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
  const agent = pick(catalog.agents, command.agent, 'agent', 'agent');
  const number = pick(catalog.numbers, command.from, 'from', 'from');
  const campaign = resolveCampaign(command, catalog, agent);
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
  };
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

/** `campaign=` wins; else the campaign whose alias is the agent's alias; else the default campaign. */
function resolveCampaign(
  command: CallCommand,
  catalog: CallCatalog,
  agent: DirectoryEntry,
): DirectoryEntry | undefined {
  const { campaigns } = catalog;
  if (command.campaign !== undefined) return campaigns.resolve(command.campaign);
  const byAgent = campaigns.entries.find((c) => c.alias.toLowerCase() === agent.alias.toLowerCase());
  const campaign = byAgent ?? campaigns.fallback;
  if (!campaign && catalog.campaignRequired) {
    const example = campaigns.entries[0] ? ` e.g. \`campaign=${campaigns.entries[0].alias}\`` : '';
    throw new CallRequestError(
      'campaign',
      `This Iqra server needs a campaign for every call: name one,${example}. Configured: ${campaigns.describeAliases()}.`,
    );
  }
  return campaign;
}
