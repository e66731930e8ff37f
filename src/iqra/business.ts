/**
 * The Iqra business, as `GET {base}/api/v1/business/{businessId}` returns it, reduced to what `/call doctor` needs:
 * the ids (and names) of its agents, caller-ID numbers and telephony campaigns, and a few hints about which kind of
 * server answered. Nothing else of the (large) answer is kept.
 *
 * Iqra's open-source server (GitHub abdofallah/IqraAI: `ProjectIqraFrontend/Controllers/API/v1/Business/
 * APIv1BusinessController.cs` returns `FunctionReturnResult<GetUserBusinessFullReturnModel>`) answers, in camelCase:
 *
 * ```
 * { "success": true, "code": null, "message": null,
 *   "data": {
 *     "businessData": { "id": 12345, "name": "Acme", ... },
 *     "businessApp": {
 *       "id": 12345,
 *       "agents": [ { "id": "6650…", "general": { "emoji": "🤖", "name": { "en": "Sales" }, ... }, ...(large) } ],
 *       "numbers": [ { "id": "6650…", "countryCode": "1", "number": "4155550100", "voiceEnabled": true, ... } ],
 *       "telephonyCampaigns": [ { "id": "6650…", "general": { "name": "Spring promo", ... }, "agent": {...}, ... } ],
 *       "webCampaigns": [...], "tools": [...], "integrations": [...], "knowledgeBases": [...], ...
 *     },
 *     "businessWhiteLabelDomain": [...]
 *   } }
 * ```
 *
 * Read leniently, because server versions differ (older ones have no `telephonyCampaigns`, the published reference
 * writes PascalCase) and the vendor's hosted API may wrap things differently:
 * - keys in any casing, `_` and `-` ignored (`telephonyCampaigns`, `TelephonyCampaigns`, `telephony_campaigns`);
 * - the lists are looked for under `businessApp` (or `app`, `business`, `businessData`), then directly in `data`;
 * - agents: `agents`; numbers: `numbers`, `phoneNumbers`, `businessNumbers`; campaigns: `telephonyCampaigns`,
 *   `outboundCampaigns`, `campaigns` (web campaigns are not campaigns that place calls, and are not read);
 * - an item's id: `id`, `_id`, or `<kind>Id`, as a string or a number; items without one are skipped;
 * - a name: a string, or a per-language map (`{ "en": "Sales" }`: English first, else the first one), directly or
 *   under `general`; a number's name is `+<countryCode><number>` (or `phoneNumber`, `e164`).
 * A list that is not found is `undefined` (not checked), which is different from an empty list (none exist).
 */
import { type Fields, fieldsOf, isRecord, readId } from './json-fields.js';

/** One agent, caller-ID number or campaign of the business. */
export interface IqraBusinessItem {
  id: string;
  /** Its name in Iqra's dashboard (a number: the phone number), when the answer has one. */
  name?: string;
  /** Numbers only: whether the number may place calls (`voiceEnabled`), when the answer says. */
  voiceEnabled?: boolean;
}

export interface IqraBusiness {
  id?: string;
  name?: string;
  /** `undefined` when the answer has no recognisable list of them. */
  agents?: IqraBusinessItem[];
  numbers?: IqraBusinessItem[];
  campaigns?: IqraBusinessItem[];
  /** How the answer was written, to guess which kind of server sent it (see `guessIqraServer`). */
  shape: {
    /** The casing of the answer's top-level keys (`success` or `Success`, `data` or `Data`). */
    casing: 'camel' | 'pascal' | 'unknown';
    /** The open-source server's layout: `data.businessApp` (with `businessData` beside it). */
    businessApp: boolean;
    /** The list of telephony campaigns was found under that name. */
    telephonyCampaigns: boolean;
  };
}

/** Which kind of Iqra server answered, inferred from the shape of the business answer. */
export type IqraServerGuess = 'open-source' | 'reference' | 'unknown';

/**
 * The open-source server's answer has `data.businessApp`; an answer in PascalCase without it looks like the
 * published reference. This is a guess from the shape of one read: only a real call proves what `call/initiate` reads.
 */
export function guessIqraServer(business: IqraBusiness): IqraServerGuess {
  if (business.shape.businessApp) return 'open-source';
  if (business.shape.casing === 'pascal') return 'reference';
  return 'unknown';
}

const AGENT_LISTS = ['agents'];
const NUMBER_LISTS = ['numbers', 'phoneNumbers', 'businessNumbers'];
const CAMPAIGN_LISTS = ['telephonyCampaigns', 'outboundCampaigns', 'campaigns'];
const CONTAINERS = ['businessApp', 'app', 'business', 'businessData'];

/**
 * Reads the business from Iqra's answer: `raw` is the parsed JSON as sent (for its casing), `data` the business
 * object inside its envelope (the same object when the answer is bare).
 */
export function readBusiness(raw: unknown, data: unknown): IqraBusiness {
  const top = fieldsOf(raw);
  const casing = casingOf(raw);
  const f = fieldsOf(data) ?? top;
  const app = fieldsOf(f?.('businessApp'));
  const business: IqraBusiness = {
    shape: { casing, businessApp: app !== undefined, telephonyCampaigns: false },
  };
  if (!f) return business;
  // Where the lists live: the app part first, then the other likely containers, then `data` itself.
  const places: Fields[] = [];
  for (const name of CONTAINERS) {
    const inner = fieldsOf(f(name));
    if (inner) places.push(inner);
  }
  places.push(f);
  const list = (names: string[]): { items: unknown[]; name: string } | undefined => {
    for (const place of places) {
      for (const name of names) {
        const value = place(name);
        if (Array.isArray(value)) return { items: value, name };
      }
    }
    return undefined;
  };
  const agents = list(AGENT_LISTS);
  if (agents) business.agents = items(agents.items, 'agent');
  const numbers = list(NUMBER_LISTS);
  if (numbers) business.numbers = items(numbers.items, 'number');
  const campaigns = list(CAMPAIGN_LISTS);
  if (campaigns) {
    business.campaigns = items(campaigns.items, 'campaign');
    business.shape.telephonyCampaigns = campaigns.name === 'telephonyCampaigns';
  }
  const details = fieldsOf(f('businessData')) ?? app ?? f;
  const id = readId(details('id', 'businessId')) ?? readId(f('id'));
  if (id !== undefined) business.id = id;
  const name = readName(details('name', 'businessName')) ?? readName(fieldsOf(details('general'))?.('name'));
  if (name !== undefined) business.name = name;
  return business;
}

/** `success`/`data` or `Success`/`Data`; for a bare answer, the casing of its first key. */
function casingOf(raw: unknown): IqraBusiness['shape']['casing'] {
  if (!isRecord(raw)) return 'unknown';
  if ('success' in raw || 'data' in raw) return 'camel';
  if ('Success' in raw || 'Data' in raw) return 'pascal';
  const first = Object.keys(raw).find((k) => /^[A-Za-z]/.test(k));
  if (first === undefined) return 'unknown';
  return /^[A-Z]/.test(first) ? 'pascal' : 'camel';
}

function items(values: unknown[], kind: 'agent' | 'number' | 'campaign'): IqraBusinessItem[] {
  const out: IqraBusinessItem[] = [];
  for (const value of values) {
    const f = fieldsOf(value);
    if (!f) {
      // A bare list of ids.
      const id = readId(value);
      if (id !== undefined) out.push({ id });
      continue;
    }
    const id = readId(f('id', '_id', `${kind}Id`));
    if (id === undefined) continue;
    const item: IqraBusinessItem = { id };
    const name = kind === 'number' ? numberName(f) : (readName(f('name')) ?? generalName(f));
    if (name !== undefined) item.name = name;
    if (kind === 'number') {
      const voice = f('voiceEnabled', 'isVoiceEnabled');
      if (typeof voice === 'boolean') item.voiceEnabled = voice;
    }
    out.push(item);
  }
  return out;
}

function generalName(f: Fields): string | undefined {
  return readName(fieldsOf(f('general'))?.('name'));
}

function numberName(f: Fields): string | undefined {
  const whole = readId(f('phoneNumber', 'e164', 'fullNumber'));
  if (whole !== undefined) return whole;
  const number = readId(f('number'));
  if (number === undefined) return readName(f('name')) ?? generalName(f);
  const country = readId(f('countryCode'))?.replace(/^\+/, '');
  if (number.startsWith('+') || !country || !/^\d{1,4}$/.test(country)) return number;
  return `+${country}${number}`;
}

/** A string, or a per-language map (`{ en: "Sales", ar: "…" }`): English first, else the first non-empty value. */
function readName(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (!isRecord(value)) return undefined;
  const english = Object.entries(value).find(([k]) => /^en(\b|[-_]|$)/i.test(k));
  const candidates = english ? [english[1], ...Object.values(value)] : Object.values(value);
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && candidate.trim()) return candidate.trim();
  }
  return undefined;
}
