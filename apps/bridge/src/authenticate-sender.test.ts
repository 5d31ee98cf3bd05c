import { describe, expect, it } from 'vitest';
import { authenticateSender } from './authenticate-sender.ts';
import { readAuthenticationResults } from './read-authentication-results.ts';

const MTA = 'mx.help.example';

describe('readAuthenticationResults', () => {
  it('reads what Gmail writes: comments dropped, versions and quoted values understood', () => {
    const header = readAuthenticationResults(
      'mx.google.com;\tdkim=pass header.i=@client.example header.s=s1 header.b="A/b;c";' +
        '\tspf=pass (google.com: domain of ann@client.example designates 192.0.2.1 as permitted sender)' +
        ' smtp.mailfrom=ann@client.example;\tdmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=client.example',
    );
    expect(header?.authservId).toBe('mx.google.com');
    expect(header?.results.map((r) => [r.method, r.result, Object.fromEntries(r.props)])).toEqual([
      ['dkim', 'pass', { 'header.i': '@client.example', 'header.s': 's1', 'header.b': 'A/b;c' }],
      ['spf', 'pass', { 'smtp.mailfrom': 'ann@client.example' }],
      ['dmarc', 'pass', { 'header.from': 'client.example' }],
    ]);
  });

  it('reads a version after the authserv-id and a method version, and skips a part it cannot read', () => {
    const header = readAuthenticationResults(
      '"MX.Help.Example" 1; auth/1 = pass smtp.auth=ann; nonsense; (comment (nested; x=y)) dkim=fail reason="bad sig"',
    );
    expect(header).toEqual({
      authservId: 'mx.help.example',
      results: [
        { method: 'auth', result: 'pass', props: new Map([['smtp.auth', 'ann']]) },
        { method: 'dkim', result: 'fail', props: new Map([['reason', 'bad sig']]) },
      ],
    });
  });

  it('reads a value with a quoted local-part whole, and unquotes only a value that is one quoted string', () => {
    const header = readAuthenticationResults(
      'mx.help.example; spf=pass smtp.mailfrom="ann@client.example"@attacker.example; dkim=pass header.b="x;y"',
    );
    expect(header?.results.map((r) => Object.fromEntries(r.props))).toEqual([
      { 'smtp.mailfrom': '"ann@client.example"@attacker.example' },
      { 'header.b': 'x;y' },
    ]);
  });

  it('reads `none` and an empty value as no results, and no authserv-id as nothing', () => {
    expect(readAuthenticationResults('mx.help.example; none')).toEqual({
      authservId: 'mx.help.example',
      results: [],
    });
    expect(readAuthenticationResults('  ; dkim=pass')).toBeUndefined();
  });
});

describe('authenticateSender', () => {
  const from = 'ann@client.example';

  it.each([
    ['DMARC pass', 'dmarc=pass header.from=client.example'],
    ['DKIM pass for the From domain', 'dkim=pass header.d=client.example'],
    ['DKIM pass for a subdomain (relaxed alignment)', 'dkim=pass header.d=mail.client.example'],
    ['DKIM pass named by header.i', 'dkim=pass header.i=@mail.client.example'],
    ['SPF pass for the From domain', 'spf=pass smtp.mailfrom=bounces@client.example'],
    [
      'one pass among failures, no DMARC verdict',
      'spf=fail smtp.mailfrom=x@client.example; dkim=pass header.d=client.example',
    ],
    [
      'DMARC pass beside a failed SPF (DMARC decides)',
      'spf=fail smtp.mailfrom=x@other.example; dmarc=pass header.from=client.example',
    ],
    [
      'a quoted local-part of the From domain itself',
      'spf=pass smtp.mailfrom="a b"@client.example',
    ],
  ])('vouches for the sender on %s', (_, results) => {
    expect(authenticateSender([`${MTA}; ${results}`], from, MTA)).toBe(true);
  });

  it.each([
    ['no header at all', []],
    ['only a header of another host (the sender can write one)', ['evil.example; dmarc=pass']],
    ['DMARC fail', [`${MTA}; dmarc=fail header.from=client.example`]],
    ['DMARC pass for another From domain', [`${MTA}; dmarc=pass header.from=attacker.example`]],
    ['DKIM pass for an unrelated domain', [`${MTA}; dkim=pass header.d=attacker.example`]],
    ['DKIM pass for a bare top-level domain', [`${MTA}; dkim=pass header.d=example`]],
    ['DKIM pass for a look-alike suffix', [`${MTA}; dkim=pass header.d=ient.example`]],
    ['SPF pass for another envelope domain', [`${MTA}; spf=pass smtp.mailfrom=x@attacker.example`]],
    ['a pass of a method that says nothing of From', [`${MTA}; arc=pass; iprev=pass`]],
    ['DMARC pass that names no From domain', [`${MTA}; dmarc=pass`]],
    [
      'DMARC fail beside an aligned DKIM pass (a signature over another From)',
      [`${MTA}; dmarc=fail header.from=client.example; dkim=pass header.d=client.example`],
    ],
    [
      'SPF pass for a quoted local-part holding the From domain',
      [`${MTA}; spf=pass smtp.mailfrom="ann@client.example"@attacker.example`],
    ],
    [
      'DKIM pass named by an identity with a quoted local-part',
      [`${MTA}; dkim=pass header.i="x@client.example"@attacker.example`],
    ],
    [
      'softfail and neutral',
      [`${MTA}; spf=softfail smtp.mailfrom=x@client.example; dkim=neutral header.d=client.example`],
    ],
  ])('refuses on %s', (_, headers) => {
    expect(authenticateSender(headers, from, MTA)).toBe(false);
  });

  it('reads only the topmost header of our MTA: a pass the sender wrote below it counts for nothing', () => {
    const headers = [
      `${MTA}; dmarc=fail header.from=client.example`,
      `${MTA}; dmarc=pass header.from=client.example`,
    ];
    expect(authenticateSender(headers, from, MTA)).toBe(false);
    expect(authenticateSender([...headers].reverse(), from, MTA)).toBe(true);
  });

  it('aligns a signature of the parent domain with a subdomain sender', () => {
    expect(
      authenticateSender(
        [`${MTA}; dkim=pass header.d=client.example`],
        'ann@eu.client.example',
        MTA,
      ),
    ).toBe(true);
  });

  it('compares the authserv-id and domains case-insensitively', () => {
    expect(
      authenticateSender(
        ['MX.HELP.EXAMPLE; dkim=pass header.d=Client.Example.'],
        'Ann@CLIENT.example',
        MTA,
      ),
    ).toBe(true);
  });
});
