import { afterEach, describe, expect, it } from 'vitest';
import { guessIqraServer, readBusiness } from '../../src/iqra/business.js';
import { IqraClient } from '../../src/iqra/client.js';
import { IqraReadError } from '../../src/iqra/errors.js';
import { type FakeIqra, type FakeIqraMode, fakeBusiness, startFakeIqra } from '../support/fake-iqra.js';

/** The answer's envelope and the business inside it, as the reader's `unwrap` hands them over. */
function read(raw: Record<string, unknown>) {
  const data = raw.data ?? raw.Data ?? raw;
  return readBusiness(raw, data);
}

describe('readBusiness: only the ids and names, from whatever shape the server writes', () => {
  it("reads the open-source server's answer (camelCase, data.businessApp)", () => {
    const business = read({
      success: true,
      code: null,
      message: null,
      data: {
        businessData: { id: 12345, name: 'Acme Sales' },
        businessApp: {
          id: 12345,
          agents: [
            { id: '6650f0c2a1b2c3d4e5f60718', general: { emoji: '🤖', name: { ar: 'مبيعات', en: 'Sales' } } },
            { id: '6650f0c2a1b2c3d4e5f60719', general: { name: { fr: 'Support' } } },
            { general: { name: { en: 'no id: skipped' } } },
          ],
          numbers: [
            { id: '6650f0c2a1b2c3d4e5f60720', countryCode: '1', number: '4155550100', voiceEnabled: true },
            { id: '6650f0c2a1b2c3d4e5f60721', countryCode: '44', number: '2071838750', voiceEnabled: false },
          ],
          telephonyCampaigns: [{ id: '6650f0c2a1b2c3d4e5f60730', general: { name: 'Spring promo' } }],
          webCampaigns: [{ id: 'web-1', general: { name: 'Website' } }],
        },
        businessWhiteLabelDomain: [],
      },
    });
    expect(business).toEqual({
      id: '12345',
      name: 'Acme Sales',
      agents: [
        { id: '6650f0c2a1b2c3d4e5f60718', name: 'Sales' },
        { id: '6650f0c2a1b2c3d4e5f60719', name: 'Support' },
      ],
      numbers: [
        { id: '6650f0c2a1b2c3d4e5f60720', name: '+14155550100', voiceEnabled: true },
        { id: '6650f0c2a1b2c3d4e5f60721', name: '+442071838750', voiceEnabled: false },
      ],
      campaigns: [{ id: '6650f0c2a1b2c3d4e5f60730', name: 'Spring promo' }],
      shape: { casing: 'camel', businessApp: true, telephonyCampaigns: true },
    });
    expect(guessIqraServer(business)).toBe('open-source');
  });

  it('reads PascalCase, a bare answer, and other names for the lists', () => {
    const business = read({
      Id: 7,
      Name: 'Bare Co',
      Agents: [{ AgentId: 'a1', Name: 'Alpha' }],
      PhoneNumbers: [{ Id: 'n1', PhoneNumber: '+14155550100' }],
      Campaigns: [{ _id: 'c1', Name: 'Outbound' }],
    });
    expect(business).toMatchObject({
      id: '7',
      name: 'Bare Co',
      agents: [{ id: 'a1', name: 'Alpha' }],
      numbers: [{ id: 'n1', name: '+14155550100' }],
      campaigns: [{ id: 'c1', name: 'Outbound' }],
      shape: { casing: 'pascal', businessApp: false, telephonyCampaigns: false },
    });
    expect(guessIqraServer(business)).toBe('reference');
  });

  it('finds the lists directly in data, in snake_case, with numeric ids or bare lists of ids', () => {
    const business = read({
      success: true,
      data: { agents: ['a1', 'a2'], telephony_campaigns: [{ id: 42 }], numbers: [{ id: { $oid: 'n1' } }] },
    });
    expect(business.agents).toEqual([{ id: 'a1' }, { id: 'a2' }]);
    expect(business.campaigns).toEqual([{ id: '42' }]);
    expect(business.numbers).toEqual([{ id: 'n1' }]);
    expect(guessIqraServer(business)).toBe('unknown');
  });

  it('tells a list that is missing (undefined: not checked) from an empty one (none exist)', () => {
    const business = read({ success: true, data: { businessApp: { agents: [] } } });
    expect(business.agents).toEqual([]);
    expect(business.numbers).toBeUndefined();
    expect(business.campaigns).toBeUndefined();
  });
});

describe('IqraClient.getBusiness against the stand-in', () => {
  let iqra: FakeIqra | undefined;
  let client: IqraClient | undefined;
  afterEach(async () => {
    await client?.close();
    await iqra?.close();
    client = undefined;
    iqra = undefined;
  });

  async function start(mode: FakeIqraMode, apiKey?: string) {
    iqra = await startFakeIqra({ mode });
    client = new IqraClient({
      baseUrl: iqra.url,
      businessId: iqra.businessId,
      apiKey: apiKey ?? iqra.apiKey,
      format: 'both',
      callWindowMinutes: 60,
      timeoutMs: 5000,
    });
    return { iqra, client };
  }

  it.each(['server', 'reference'] as const)(
    'reads the business (%s mode) with one GET and the key',
    async (mode) => {
      const { iqra, client } = await start(mode);
      iqra.business(
        fakeBusiness({ agents: [{ id: 'a1', name: 'Sales' }], numbers: ['n1'], campaigns: ['c1'] }),
      );
      const business = await client.getBusiness();
      expect(business.agents).toEqual([{ id: 'a1', name: 'Sales' }]);
      expect(business.numbers).toEqual([{ id: 'n1', name: '+14155550100', voiceEnabled: true }]);
      expect(business.campaigns?.map((c) => c.id)).toEqual(['c1']);
      expect(business.shape.casing).toBe(mode === 'server' ? 'camel' : 'pascal');
      expect(iqra.businessRequests).toEqual([
        expect.objectContaining({ method: 'GET', path: `/api/v1/business/${iqra.businessId}` }),
      ]);
      expect(iqra.businessRequests[0]?.headers.authorization).toBe(`Token ${iqra.apiKey}`);
    },
  );

  it.each(['server', 'reference'] as const)('throws unauthorized for a wrong key (%s mode)', async (mode) => {
    const { iqra, client } = await start(mode, 'iu_wrong_key');
    iqra.business(fakeBusiness());
    const error = await client.getBusiness().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(IqraReadError);
    expect((error as IqraReadError).kind).toBe('unauthorized');
    expect((error as Error).message).not.toContain('iu_wrong_key');
  });

  it('reads a business larger than the 8 MB a conversation may be, keeping only ids and names', async () => {
    const { iqra, client } = await start('server');
    const bulk = 'x'.repeat(4096);
    const data = fakeBusiness({ agents: Array.from({ length: 2500 }, (_, i) => ({ id: `agent_${i}` })) });
    const app = data.businessApp as { agents: Record<string, unknown>[] };
    for (const agent of app.agents) agent.prompt = bulk;
    iqra.business(data);
    const business = await client.getBusiness();
    expect(business.agents).toHaveLength(2500);
    expect(business.agents?.[2499]).toEqual({ id: 'agent_2499', name: 'Agent agent_2499' });
  });

  it('passes on an Iqra error code as the kind of read error', async () => {
    const { iqra, client } = await start('server');
    iqra.business({ code: 'EXCEPTION', message: 'Internal Server Error: boom' });
    await expect(client.getBusiness()).rejects.toMatchObject({
      kind: 'unavailable',
      code: 'GetBusiness:EXCEPTION',
    });
  });
});
