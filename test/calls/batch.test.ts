import { describe, expect, it } from 'vitest';
import { type BatchDefaults, type BatchTable, previewBatch, readBatchTable } from '../../src/calls/batch.js';
import type { CallCatalog } from '../../src/calls/call-request.js';
import { Directory } from '../../src/calls/directory.js';
import { CallRequestError } from '../../src/calls/errors.js';
import { normalizeRecipient } from '../../src/calls/phone.js';

const sales = { alias: 'sales', id: 'agent_1' };
const support = { alias: 'support', id: 'agent_2' };
const main = { alias: 'main', id: 'num_1' };
const backup = { alias: 'backup', id: 'num_2' };
const salesCampaign = { alias: 'sales', id: 'camp_1' };
const webinar = { alias: 'webinar', id: 'camp_2' };

function catalog(o: Partial<CallCatalog> = {}): CallCatalog {
  return {
    agents: new Directory('agent', [sales, support], undefined),
    numbers: new Directory('number', [main, backup], main),
    campaigns: new Directory('campaign', [salesCampaign, webinar], undefined),
    campaignRequired: false,
    defaultRegion: 'US',
    ...o,
  };
}

function refusal(fn: () => unknown): CallRequestError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CallRequestError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const preview = (text: string, defaults: BatchDefaults = { agent: 'sales' }, max = 500, o = {}) =>
  previewBatch(readBatchTable(text), defaults, catalog(o), { max });

describe('readBatchTable', () => {
  it('reads RFC 4180 quoting: delimiters, line breaks and "" inside quotes', () => {
    const table = readBatchTable(
      'phone,CustomerName,Address,Note\n' +
        '+14155552671,"Doe, Jane","1 Main St\nApt 2","She said ""call me"""\n' +
        '+442071838750, "Smith, John" ,London,\n',
    );
    expect(table.header).toEqual(['phone', 'CustomerName', 'Address', 'Note']);
    expect(table.rows).toEqual([
      { line: 2, cells: ['+14155552671', 'Doe, Jane', '1 Main St\nApt 2', 'She said "call me"'] },
      // The quoted cell on line 2 spans two lines, so this row starts on line 4.
      { line: 4, cells: ['+442071838750', 'Smith, John', 'London', ''] },
    ]);
  });

  it('drops a BOM, reads semicolons and CRLF line ends', () => {
    const table = readBatchTable(
      '\uFEFFTelefon;Name\r\n+442071838750;Müller, Anna\r\n(646) 555-0199;Bob\r\n',
    );
    expect(table.header).toEqual(['Telefon', 'Name']);
    expect(table.rows).toEqual([
      { line: 2, cells: ['+442071838750', 'Müller, Anna'] },
      { line: 3, cells: ['(646) 555-0199', 'Bob'] },
    ]);
  });

  it('reads tabs (a paste from a spreadsheet), with commas in the cells', () => {
    const table = readBatchTable(
      'Mobile\tCustomerName\n+14155552671\tDoe, Jane\n(646) 555-0199\t"Tab\there"',
    );
    expect(table.header).toEqual(['Mobile', 'CustomerName']);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ['+14155552671', 'Doe, Jane'],
      ['(646) 555-0199', 'Tab\there'],
    ]);
  });

  it('follows an Excel `sep=` line', () => {
    const table = readBatchTable('sep=;\nphone;Name\n+14155552671;Jane, Doe\n');
    expect(table.header).toEqual(['phone', 'Name']);
    expect(table.rows).toEqual([{ line: 3, cells: ['+14155552671', 'Jane, Doe'] }]);
  });

  it('skips blank lines and all-empty rows but keeps counting lines', () => {
    const table = readBatchTable('phone,Name\n\n+14155552671,Jane\n   \n,,\n\r\n+442071838750,John\n\n');
    expect(table.rows).toEqual([
      { line: 3, cells: ['+14155552671', 'Jane'] },
      { line: 7, cells: ['+442071838750', 'John'] },
    ]);
  });

  it('reads pasted numbers, one per line, without a header', () => {
    const table = readBatchTable('+14155552671\n(646) 555-0199\n+44 20 7183 8750\n');
    expect(table.header).toEqual([]);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ['+14155552671'],
      ['(646) 555-0199'],
      ['+44 20 7183 8750'],
    ]);
  });

  it('takes a first row with a mistyped number for data, not for a header', () => {
    expect(readBatchTable('555-0199\n+14155552671').header).toEqual([]);
    expect(readBatchTable('+1 415 555 2671 ext 12\n+14155552671').header).toEqual([]);
    expect(readBatchTable('number\n+14155552671').header).toEqual(['number']);
  });

  it('takes the first line of one column for a header only when it names the column', () => {
    for (const header of [
      'phone',
      'Phone Number',
      'Numbers',
      'Contact Number',
      'Mobile #',
      'Tel.',
      'Recipients',
    ]) {
      const table = readBatchTable(`${header}\n+14155552671\n(646) 555-0199`);
      expect(table.header).toEqual([header]);
      expect(table.rows.map((r) => r.line)).toEqual([2, 3]);
    }
    // A name, or any other word, is a row (which the preview skips, saying why), not a header dropped unseen.
    for (const first of ['John', 'Ada Lovelace', 'call these']) {
      const table = readBatchTable(`${first}\n+14155552671`);
      expect(table.header).toEqual([]);
      expect(table.rows).toEqual([
        { line: 1, cells: [first] },
        { line: 2, cells: ['+14155552671'] },
      ]);
    }
  });

  it('reads the header of a list of several columns as before, whatever its names', () => {
    expect(readBatchTable('name,phone,CustomerName\nAda,+14155552671,Ada L').header).toEqual([
      'name',
      'phone',
      'CustomerName',
    ]);
    expect(readBatchTable('John,Company\n+14155552671,Acme').header).toEqual(['John', 'Company']);
  });

  it('refuses a quote that is never closed, naming its line', () => {
    const error = refusal(() => readBatchTable('phone,Name\n+14155552671,"Jane\n+442071838750,John\n'));
    expect(error.userMessage).toMatch(/opens on line 2 .* never closed/);
  });
});

describe('previewBatch', () => {
  it('reads variables by header name and per-row agent and when, over the batch defaults', () => {
    const result = preview(
      'Phone,CustomerName,agent,When,Company\n' +
        '+14155552671,"Doe, Jane",support,"tomorrow 10am",Acme\n' +
        '+442071838750,John,,,\n' +
        '(646) 555-0199,,SALES,  ,Initech\n',
      { agent: 'sales', when: 'monday 9am' },
    );
    expect(result.skipped).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(result.tooMany).toBeUndefined();
    expect(result.valid).toEqual([
      {
        line: 2,
        status: 'valid',
        recipient: { e164: '+14155552671', display: '+1 415 555 2671', country: 'US' },
        agent: support,
        number: main,
        whenPhrase: 'tomorrow 10am',
        variables: { CustomerName: 'Doe, Jane', Company: 'Acme' },
      },
      {
        line: 3,
        status: 'valid',
        recipient: { e164: '+442071838750', display: '+44 20 7183 8750', country: 'GB' },
        agent: sales,
        number: main,
        campaign: salesCampaign, // the campaign named like the agent, as for a single call
        whenPhrase: 'monday 9am',
        variables: { CustomerName: 'John' }, // empty cells are no variables
      },
      {
        line: 4,
        status: 'valid',
        recipient: { e164: '+16465550199', display: '+1 646 555 0199', country: 'US' },
        agent: sales,
        number: main,
        campaign: salesCampaign,
        whenPhrase: 'monday 9am', // a blank cell falls back to the batch's time
        variables: { Company: 'Initech' },
      },
    ]);
  });

  it('uses per-row from and campaign, and the number column wherever it is', () => {
    const result = preview(
      'CustomerName;FROM;Campaign;mobile\nJane;backup;webinar;+14155552671\nJohn;;;+442071838750\n',
      { agent: 'support', from: 'main' },
    );
    expect(
      result.valid.map((r) => [r.recipient.e164, r.number.alias, r.campaign?.alias, r.variables]),
    ).toEqual([
      ['+14155552671', 'backup', 'webinar', { CustomerName: 'Jane' }],
      ['+442071838750', 'main', undefined, { CustomerName: 'John' }],
    ]);
  });

  it('takes the column whose name has a phone word in it over the first column, when none is named exactly', () => {
    // The IDs in the first column read as valid US numbers: calling them would dial strangers.
    const result = preview(
      'CustomerID,Name,Phone_1\n2125550123,Jane,+14155552671\n6465550199,John,+442071838750\n',
    );
    expect(result.valid.map((r) => [r.recipient.e164, r.variables])).toEqual([
      ['+14155552671', { CustomerID: '2125550123', Name: 'Jane' }],
      ['+442071838750', { CustomerID: '6465550199', Name: 'John' }],
    ]);
    for (const header of ['Work Phone', 'PrimaryPhone', 'MobilePhone2', 'Telefon']) {
      const one = preview(`Ref,${header}\n2125550123,+14155552671\n`);
      expect(one.valid.map((r) => r.recipient.e164)).toEqual(['+14155552671']);
    }
    // "Account Number" is no phone: with no phone-named column, the first column is the number, as before.
    expect(preview('Contact,AccountNumber\n+14155552671,12345\n').valid[0]?.recipient.e164).toBe(
      '+14155552671',
    );
    expect(
      refusal(() => preview('Ref,Work Phone,Home Phone\n1,+14155552671,+14155552672\n')).userMessage,
    ).toContain('more than one phone number column');
  });

  it("reads a number kept as text with a leading ' (as this app's result file writes it)", () => {
    const result = preview("phone,Name\n'+1 415 555 2671,Jane\n");
    expect(result.valid.map((r) => r.recipient.e164)).toEqual(['+14155552671']);
    expect(result.skipped).toEqual([]);
  });

  it('previews pasted numbers with the batch defaults', () => {
    const result = preview('+14155552671\n(646) 555-0199\n', { agent: 'support', when: 'tomorrow 9am' });
    expect(
      result.valid.map((r) => [r.line, r.recipient.e164, r.agent.alias, r.whenPhrase, r.variables]),
    ).toEqual([
      [1, '+14155552671', 'support', 'tomorrow 9am', {}],
      [2, '+16465550199', 'support', 'tomorrow 9am', {}],
    ]);
  });

  it('skips invalid numbers with the message a single call gets', () => {
    const result = preview('phone,Name\n555-0199,A\n+14155552671,B\nhello,C\n,D\n');
    expect(result.valid.map((r) => r.recipient.e164)).toEqual(['+14155552671']);
    const single = (raw: string) => refusal(() => normalizeRecipient(raw, 'US')).userMessage;
    expect(result.skipped).toEqual([
      { line: 2, status: 'skipped', raw: '555-0199', reason: single('555-0199') },
      { line: 4, status: 'skipped', raw: 'hello', reason: single('hello') },
      { line: 5, status: 'skipped', raw: '', reason: single('') },
    ]);
    expect(result.skipped[0]?.reason).toMatch(/too short for a US number/);
  });

  it('skips a row with an unknown agent, listing the configured aliases', () => {
    const result = preview('phone,agent\n+14155552671,sale\n+442071838750,support\n');
    expect(result.valid.map((r) => r.recipient.e164)).toEqual(['+442071838750']);
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]?.line).toBe(2);
    expect(result.skipped[0]?.raw).toBe('+14155552671');
    expect(result.skipped[0]?.reason).toBe(
      "I don't know the agent “sale”. Configured: `sales`, `support`. Example: `agent=sales`.",
    );
  });

  it('skips rows without an agent when neither the row nor the batch names one and there is no default', () => {
    const result = preview('phone,agent\n+14155552671,\n+442071838750,sales\n', {});
    expect(result.valid.map((r) => r.recipient.e164)).toEqual(['+442071838750']);
    expect(result.skipped[0]?.reason).toMatch(/Say which agent to use, e\.g\. `agent=sales`/);
  });

  it('skips a row that the server needs a campaign for and has none', () => {
    const result = preview('phone,agent\n+14155552671,support\n+442071838750,sales\n', {}, 500, {
      campaignRequired: true,
    });
    expect(result.valid.map((r) => r.campaign?.alias)).toEqual(['sales']);
    expect(result.skipped[0]?.reason).toMatch(/needs a campaign for every call/);
  });

  it('collapses the same number written in different formats into the first row', () => {
    const result = preview(
      'phone,CustomerName\n' +
        '+14155552671,First\n' +
        '(415) 555-2671,Second\n' +
        '(646) 555-0199,Other\n' +
        '1-415-555-2671,Third\n' +
        'tel:+14155552671,Fourth\n' +
        '+1 646 555 0199,Again\n',
    );
    expect(result.duplicates).toBe(4);
    expect(result.valid.map((r) => [r.line, r.recipient.e164, r.variables.CustomerName])).toEqual([
      [2, '+14155552671', 'First'],
      [4, '+16465550199', 'Other'],
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('counts a duplicate of a skipped row as a duplicate: each number is called at most once', () => {
    const result = preview('phone,agent\n+14155552671,sale\n(415) 555-2671,sales\n');
    expect(result.valid).toEqual([]);
    expect(result.skipped.map((r) => r.line)).toEqual([2]);
    expect(result.duplicates).toBe(1);
    expect(result.duplicateRows).toEqual([{ line: 3, e164: '+14155552671', of: 2 }]);
  });

  it('keeps each duplicate with its line and the line of the first row with its number', () => {
    const result = preview('+14155552671\n(646) 555-0199\n1-415-555-2671\n\n+1 646 555 0199\n+14155552671\n');
    expect(result.valid.map((r) => r.line)).toEqual([1, 2]);
    expect(result.duplicateRows).toEqual([
      { line: 3, e164: '+14155552671', of: 1 },
      { line: 5, e164: '+16465550199', of: 2 },
      { line: 6, e164: '+14155552671', of: 1 },
    ]);
    expect(result.duplicates).toBe(3);
  });

  it('skips a pasted list’s first line that is neither a number nor a column name, saying how to make it one', () => {
    const result = preview('John\n+14155552671\nJane\n');
    expect(result.valid.map((r) => r.line)).toEqual([2]);
    expect(result.skipped.map((r) => [r.line, r.raw])).toEqual([
      [1, 'John'],
      [3, 'Jane'],
    ]);
    expect(result.skipped[0]?.reason).toMatch(/^`John` is not a phone number.*call it `phone`\.\)$/);
    // Only the first line may have been meant as a header.
    expect(result.skipped[1]?.reason).not.toContain('call it `phone`');
  });

  it('skips a row whose variable holds a card number, without repeating it', () => {
    const result = preview('phone,Note\n+14155552671,"card 4111 1111 1111 1111"\n+442071838750,VIP\n');
    expect(result.valid.map((r) => r.variables)).toEqual([{ Note: 'VIP' }]);
    expect(result.skipped).toHaveLength(1);
    const [row] = result.skipped;
    expect(row?.raw).toBe('+14155552671');
    expect(row?.reason).toMatch(/`Note` looks like it contains a payment card number/);
    expect(row?.reason).not.toContain('4111 1111');
  });

  it('skips a row whose variable is longer than a single call allows', () => {
    const result = preview(`phone,Note\n+14155552671,${'x'.repeat(1001)}\n`);
    expect(result.skipped[0]?.reason).toBe(
      'The value of `Note` is 1001 characters long; the most is 1000. Shorten it.',
    );
  });

  it('refuses a header name that cannot be a variable, for the whole batch', () => {
    const error = refusal(() => preview('phone,Customer Name\n+14155552671,Jane\n'));
    expect(error.field).toBe('variables');
    expect(error.userMessage).toMatch(
      /^The column `Customer Name` \(column 2, e\.g\. `Customer_Name`\) can't be a dynamic variable/,
    );
    // A CRM export's columns are all named in one answer, not one per upload.
    const all = refusal(() =>
      preview('phone,First Name,Record ID,Phone #2,Plan\n+14155552671,Jane,7,x,Pro\n'),
    );
    expect(all.userMessage).toMatch(
      /^These columns can't be dynamic variables: `First Name` \(column 2, e\.g\. `First_Name`\), `Record ID` \(column 3, e\.g\. `Record_ID`\), `Phone #2` \(column 4, e\.g\. `Phone_2`\):/,
    );
    expect(refusal(() => preview('phone,meta.Source\n+14155552671,x\n')).field).toBe('variables');
    expect(refusal(() => preview('phone,a=b\n+14155552671,x\n')).userMessage).toMatch(/`a=b`/);
  });

  it('refuses a header named like a secret, the same name twice, and two number columns', () => {
    expect(refusal(() => preview('phone,Password\n+14155552671,x\n')).userMessage).toMatch(
      /`Password` is named like a password/,
    );
    expect(refusal(() => preview('phone,Name,name\n+14155552671,x,y\n')).userMessage).toMatch(
      /names the column `name` twice/,
    );
    expect(refusal(() => preview('phone,agent,Agent\n+14155552671,sales,sales\n')).userMessage).toMatch(
      /twice/,
    );
    const two = refusal(() => preview('phone,Mobile\n+14155552671,+442071838750\n'));
    expect(two.field).toBe('recipient');
    expect(two.userMessage).toMatch(/more than one phone number column \(`phone`, `Mobile`\)/);
  });

  it('refuses extra columns without a header, and values under no column name', () => {
    expect(refusal(() => preview('+14155552671,Jane\n')).userMessage).toMatch(
      /^Line 1 of the list has more than one column, but the list has no header row/,
    );
    expect(refusal(() => preview('phone,Name\n+14155552671,Jane,extra\n')).userMessage).toMatch(
      /^Line 2 of the list has a value in column 3, which has no name/,
    );
    // A trailing empty column (spreadsheets write one) is fine.
    expect(preview('phone,Name,\n+14155552671,Jane,\n').valid).toHaveLength(1);
  });

  it('refuses an empty list and a batch default that is not configured', () => {
    expect(refusal(() => preview('\n\n')).userMessage).toMatch(/no numbers in it/);
    expect(refusal(() => preview('phone,Name\n')).userMessage).toMatch(/header row but no rows/);
    const agent = refusal(() => preview('+14155552671\n', { agent: 'sale' }));
    expect(agent.field).toBe('agent');
    expect(agent.userMessage).toMatch(/Configured: `sales`, `support`/);
    expect(refusal(() => preview('+14155552671\n', { agent: 'sales', from: 'nope' })).field).toBe('from');
  });

  it('only checks that a time phrase is one line of text; reading it needs the rep’s zone, later', () => {
    const result = preview('phone,when\n+14155552671,"not a time at all"\n+442071838750,"10am\nfriday"\n');
    expect(result.valid.map((r) => r.whenPhrase)).toEqual(['not a time at all']);
    expect(result.skipped[0]?.reason).toMatch(/more than one line/);
  });

  it('previews only the first `max` rows of a longer list, and says how long it is', () => {
    const numbers = ['+14155552671', '+442071838750', '(646) 555-0199', '+14155552672', '+14155552673'];
    const text = `phone\n${numbers.join('\n')}\n+14155552674\n+14155552675\n`;
    const result = preview(text, { agent: 'sales' }, 5);
    expect(result.tooMany).toEqual({ max: 5, given: 7 });
    expect(result.valid.map((r) => r.line)).toEqual([2, 3, 4, 5, 6]);
    expect(preview(text, { agent: 'sales' }, 7).tooMany).toBeUndefined();
  });

  it('handles a 500-row list', () => {
    const rows = Array.from(
      { length: 500 },
      (_, i) => `+1415555${String(1000 + i).padStart(4, '0')},Name${i}`,
    );
    const result = preview(`phone,CustomerName\n${rows.join('\n')}\n`, { agent: 'sales' }, 500);
    expect(result.tooMany).toBeUndefined();
    expect(result.valid).toHaveLength(500);
    expect(result.skipped).toEqual([]);
  });

  it('refuses a max that is not a positive integer', () => {
    const table: BatchTable = { header: [], rows: [{ line: 1, cells: ['+14155552671'] }] };
    expect(() => previewBatch(table, {}, catalog(), { max: 0 })).toThrow(RangeError);
  });
});
