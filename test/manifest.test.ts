import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const schemaDir = join(root, '..', 'shared', 'slack-manifest-schema');
const manifest = parse(readFileSync(join(root, 'manifest.yml'), 'utf8')) as {
  features: {
    slash_commands: { command: string; usage_hint?: string }[];
    shortcuts?: { name: string; type: string; callback_id: string }[];
    app_home?: { home_tab_enabled?: boolean };
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity: { is_enabled: boolean };
    socket_mode_enabled: boolean;
    event_subscriptions?: { bot_events?: string[] };
  };
};

describe('manifest.yml', () => {
  it.skipIf(!existsSync(schemaDir))("is valid against Slack's manifest JSON Schema", () => {
    const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
    const versions = readdirSync(join(schemaDir, 'schemas'));
    for (const file of versions) {
      const major = file.match(/manifest\.schema\.(\d)\.0\.0\.json/)?.[1];
      if (!major) continue;
      ajv.addSchema(
        JSON.parse(readFileSync(join(schemaDir, 'schemas', file), 'utf8')),
        `https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.${major}.0.0.json`,
      );
    }
    const validate = ajv.compile(JSON.parse(readFileSync(join(schemaDir, 'manifest.schema.json'), 'utf8')));
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('declares /call with a usage hint, interactivity, Socket Mode and the scopes the app uses', () => {
    const call = manifest.features.slash_commands.find((c) => c.command === '/call');
    expect(call?.usage_hint).toContain('agent=');
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['commands', 'chat:write', 'users:read', 'files:read', 'files:write']),
    );
  });

  it('declares the shortcuts, the Home tab and the event the app listens for', () => {
    expect(manifest.features.shortcuts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'Call this number',
          type: 'message',
          callback_id: 'call_this_number',
        }),
        expect.objectContaining({ name: 'Place a call', type: 'global', callback_id: 'place_call' }),
      ]),
    );
    expect(manifest.features.app_home?.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions?.bot_events).toContain('app_home_opened');
  });

  it('explains every bot scope in a comment', () => {
    const lines = readFileSync(join(root, 'manifest.yml'), 'utf8').split('\n');
    for (const scope of manifest.oauth_config.scopes.bot) {
      const at = lines.findIndex((l) => l.trim() === `- ${scope}`);
      expect(at, scope).toBeGreaterThan(0);
      expect(lines[at - 1]?.trim().startsWith('#'), `comment above ${scope}`).toBe(true);
    }
  });
});
