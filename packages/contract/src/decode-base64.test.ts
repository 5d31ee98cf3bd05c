import { describe, it, expect } from 'vitest';
import { decodeBase64 } from './decode-base64.ts';

/** Every byte value once, in order. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** The decoded bytes as text; fails the test when the input is refused. */
function decodedText(text: string): string {
  const bytes = decodeBase64(text);
  expect(bytes).toBeInstanceOf(Buffer);
  return bytes!.toString('utf8');
}

describe('decodeBase64', () => {
  it('decodes standard padded base64', () => {
    expect(decodedText('aGVsbG8gd29ybGQ=')).toBe('hello world');
    expect(decodedText('aGk=')).toBe('hi');
    expect(decodedText('aGk/')).toBe('hi?');
  });

  it('decodes the URL-safe alphabet', () => {
    expect(decodeBase64('-_-_')).toEqual(Buffer.from([0xfb, 0xff, 0xbf]));
    expect(decodeBase64('-_-_')).toEqual(decodeBase64('+/+/'));
    expect(decodedText('aGk_')).toBe('hi?');
  });

  it('decodes URL-safe base64 with padding', () => {
    expect(decodeBase64('-w==')).toEqual(Buffer.from([0xfb]));
  });

  it('decodes unpadded base64 of every length an encoder produces', () => {
    expect(decodedText('YQ')).toBe('a');
    expect(decodedText('YWI')).toBe('ab');
    expect(decodedText('YWJj')).toBe('abc');
    expect(decodedText('aGVsbG8gd29ybGQ')).toBe('hello world');
  });

  it('ignores spaces, tabs and newlines anywhere, as MIME and chunk_split line breaks put them', () => {
    expect(decodedText('aGVs\nbG8g\r\nd29y bGQ=\t\n')).toBe('hello world');
    expect(decodedText('  aGVsbG8gd29ybGQ=  ')).toBe('hello world');
    expect(decodedText('aGVsbG8gd29ybGQ\n=')).toBe('hello world');
  });

  it('decodes the empty string to an empty buffer', () => {
    expect(decodeBase64('')).toEqual(Buffer.alloc(0));
  });

  it('decodes whitespace alone to an empty buffer', () => {
    expect(decodeBase64(' \r\n\t')).toEqual(Buffer.alloc(0));
  });

  it('refuses the standard and URL-safe alphabets mixed in one string', () => {
    expect(decodeBase64('+_+_')).toBeUndefined();
    expect(decodeBase64('-/-/')).toBeUndefined();
    expect(decodeBase64('aGk/aGk_')).toBeUndefined();
  });

  it.each(['!', '%', '*', '.', ',', '"', '\\', '\0', 'é'])(
    'refuses a stray %j instead of skipping it as Node would',
    (stray) => {
      expect(Buffer.from(`aGVs${stray}bG8=`, 'base64').length).toBeGreaterThan(0);
      expect(decodeBase64(`aGVs${stray}bG8=`)).toBeUndefined();
    },
  );

  it('refuses URL-encoded padding left in by a double-encoded form', () => {
    expect(decodeBase64('aGk%3D')).toBeUndefined();
  });

  it.each(['A', 'AAAAA', 'aGVsbG8gd', 'A\n'])(
    'refuses %j, a length no encoder produces (1 character past a multiple of 4)',
    (text) => {
      expect(decodeBase64(text)).toBeUndefined();
    },
  );

  it.each([
    ['three padding characters', 'A==='],
    ['only padding', '='],
    ['two padding characters alone', '=='],
    ['padding that leaves a length not a multiple of 4', 'AA='],
    ['padding after a full group', 'AAAA='],
    ['padding in the middle', 'AA==AA=='],
    ['padding before data', '=AAA'],
  ])('refuses bad padding: %s (%j)', (_name, text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });

  it('round-trips all 256 byte values in the standard alphabet, padded and unpadded', () => {
    const padded = ALL_BYTES.toString('base64');
    expect(decodeBase64(padded)).toEqual(ALL_BYTES);
    expect(decodeBase64(padded.replace(/=+$/, ''))).toEqual(ALL_BYTES);
  });

  it('round-trips all 256 byte values in the URL-safe alphabet, padded and unpadded', () => {
    const unpadded = ALL_BYTES.toString('base64url');
    expect(unpadded).toMatch(/[-_]/);
    expect(decodeBase64(unpadded)).toEqual(ALL_BYTES);
    const padded = unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, '=');
    expect(decodeBase64(padded)).toEqual(ALL_BYTES);
  });

  it('round-trips all 256 byte values broken into 76-character MIME lines', () => {
    const mime = ALL_BYTES.toString('base64')
      .match(/.{1,76}/g)!
      .join('\r\n');
    expect(mime).toContain('\r\n');
    expect(decodeBase64(mime)).toEqual(ALL_BYTES);
  });

  it('round-trips every byte value on its own and in every position of a 3-byte group', () => {
    for (let byte = 0; byte < 256; byte++) {
      for (const bytes of [[byte], [0, byte], [0, 0, byte]]) {
        const original = Buffer.from(bytes);
        expect(decodeBase64(original.toString('base64'))).toEqual(original);
        expect(decodeBase64(original.toString('base64url'))).toEqual(original);
      }
    }
  });
});
