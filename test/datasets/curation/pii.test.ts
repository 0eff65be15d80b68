import { describe, expect, it } from 'vitest';
import {
  cardNumberValid,
  countPii,
  ibanValid,
  ipv6Valid,
  luhnValid,
  phoneValid,
  redactPii,
  scanPii,
  shannonEntropy,
  type PiiKind,
} from '../../../src-main/core/datasets/curation/pii.js';

/** The (kind, value) pairs found in `text`. */
const found = (text: string) => scanPii(text).map((m) => [m.kind, m.value] as [PiiKind, string]);
const only = (kind: PiiKind, text: string) =>
  scanPii(text)
    .filter((m) => m.kind === kind)
    .map((m) => m.value);

describe('scanPii: true positives', () => {
  it('emails', () => {
    expect(found('Mail john.doe+test@example.co.uk or Jane_Roe@sub.example.org.')).toEqual([
      ['email', 'john.doe+test@example.co.uk'],
      ['email', 'Jane_Roe@sub.example.org'],
    ]);
    expect(only('email', 'écrivez à zoé@exemple.fr')).toEqual(['zoé@exemple.fr']);
  });

  it('credit cards: grouped, dashed, contiguous, several issuers', () => {
    expect(found('Visa 4111 1111 1111 1111 exp 12/25')).toEqual([['credit-card', '4111 1111 1111 1111']]);
    expect(
      only(
        'credit-card',
        'MC 5555-5555-5555-4444, Amex 378282246310005, Amex 3782 822463 10005, Discover 6011111111111117, MC2 2223003122003222, JCB 3530111333300000, Visa13 4222222222222',
      ),
    ).toEqual(['5555-5555-5555-4444', '378282246310005', '3782 822463 10005', '6011111111111117', '2223003122003222', '3530111333300000', '4222222222222']);
  });

  it('IBANs: compact and in groups of 4, several countries', () => {
    expect(found('Pay to DE89 3704 0044 0532 0130 00 today')).toEqual([['iban', 'DE89 3704 0044 0532 0130 00']]);
    expect(only('iban', 'GB82WEST12345698765432, FR14 2004 1010 0505 0001 3M02 606, NL91ABNA0417164300, BE68539007547034, CH9300762011623852957')).toEqual([
      'GB82WEST12345698765432',
      'FR14 2004 1010 0505 0001 3M02 606',
      'NL91ABNA0417164300',
      'BE68539007547034',
      'CH9300762011623852957',
    ]);
  });

  it('IPv4 and IPv6 (full and compressed)', () => {
    expect(found('Hosts 192.168.0.1, 10.0.0.255:8080 and 8.8.8.8.')).toEqual([
      ['ip', '192.168.0.1'],
      ['ip', '10.0.0.255'],
      ['ip', '8.8.8.8'],
    ]);
    expect(only('ip', 'v6 2001:0db8:85a3:0000:0000:8a2e:0370:7334, 2001:db8::8a2e:370:7334, ::1, fe80::1 and ::ffff:192.0.2.128.')).toEqual([
      '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
      '2001:db8::8a2e:370:7334',
      '::1',
      'fe80::1',
      '::ffff:192.0.2.128',
    ]);
  });

  it('phones: international and national formats', () => {
    expect(only('phone', 'Call +1 (415) 555-0132, (415) 555-0132, 415.555.0132, 1-800-555-0199 or +44 20 7946 0958.')).toEqual([
      '+1 (415) 555-0132',
      '(415) 555-0132',
      '415.555.0132',
      '1-800-555-0199',
      '+44 20 7946 0958',
    ]);
    expect(
      only('phone', 'UK 020 7946 0958, FR 06 12 34 56 78, +33 6 12 34 56 78, DE 030/1234567, +49 (0)30 1234567, +4915112345678, tel:+41446681800'),
    ).toEqual(['020 7946 0958', '06 12 34 56 78', '+33 6 12 34 56 78', '030/1234567', '+49 (0)30 1234567', '+4915112345678', '+41446681800']);
    // A date next to a number does not hide it.
    expect(only('phone', '2024-01-15 020 7946 0958')).toEqual(['020 7946 0958']);
  });

  it('secrets with well-known prefixes', () => {
    const keys = [
      'sk-proj-AbC123dEf456GhI789jKl012MnO345',
      'sk-ant-api03-AbCdEf123456GhIjKl789012MnOpQr',
      'sk-AbCdEfGhIjKlMnOpQrSt1234567890abcdefghijklmn',
      'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1234',
      'gho_abcdefghijklmnopqrstuvwxyzABCDEF1234',
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
      'AKIAIOSFODNN7EXAMPLE',
      'ASIAY34FZKBOKMUTVV7A',
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW',
      'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
      'rk_live_51H8abcDEFghiJKLmnoPQR',
      'hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh',
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    ];
    for (const key of keys) expect(found(`key: ${key} end`), key).toEqual([['secret', key]]);
  });

  it('PEM private key blocks, closed or cut', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1b2c3d4\nabcDEFghij==\n-----END RSA PRIVATE KEY-----';
    expect(found(`here:\n${pem}\nthanks`)).toEqual([['secret', pem]]);
    const cut = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACB';
    expect(found(`${cut}\n\nThat is my key`)).toEqual([['secret', cut]]);
  });

  it('generic key = high-entropy value: only the value is reported', () => {
    expect(found('api_key = "a8F3kL9mQ2xZ7vB4nR6tY1wE5uI0oP"')).toEqual([['secret', 'a8F3kL9mQ2xZ7vB4nR6tY1wE5uI0oP']]);
    expect(found('GITHUB_TOKEN: 9f8e7d6c5b4a39281706f5e4d3c2b1a0')).toEqual([['secret', '9f8e7d6c5b4a39281706f5e4d3c2b1a0']]);
    expect(found('{"clientSecret": "Zq8xW2vN5mK1jH7gF4dS9aL3pO6iU0yT"}')).toEqual([['secret', 'Zq8xW2vN5mK1jH7gF4dS9aL3pO6iU0yT']]);
    expect(found("db_password='Tr0ub4dor&3xYz!Qw9#Lp2$'")).toEqual([['secret', 'Tr0ub4dor&3xYz!Qw9#Lp2$']]);
  });
});

describe('scanPii: near misses are not matched', () => {
  it('a card number with a wrong Luhn digit, an unknown prefix, the wrong length', () => {
    expect(found('Card 4111 1111 1111 1112 please')).toEqual([]);
    expect(found('Card 4111111111111112')).toEqual([]);
    expect(found('Number 1234 5678 9012 3452')).toEqual([]); // Luhn-valid, but no issuer starts with 1
    expect(found('Ref 41111111111111111111111')).toEqual([]); // 23 digits
    expect(found('id 51992724-28736180')).toEqual([]); // Luhn-valid with a Mastercard prefix, but not grouped like a card
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
    expect(cardNumberValid('4111111111111111')).toBe(true);
    expect(cardNumberValid('378282246310005')).toBe(true);
    expect(cardNumberValid('37828224631000')).toBe(false);
  });

  it('an IBAN with wrong check digits, a wrong length or an unknown country', () => {
    expect(found('IBAN DE89 3704 0044 0532 0130 01.')).toEqual([]);
    expect(found('IBAN DE88370400440532013000')).toEqual([]);
    expect(found('IBAN DE89 3704 0044 0532 0130 0')).toEqual([]);
    expect(found('IBAN ZZ89370400440532013000')).toEqual([]);
    expect(found('IBAN DE89370400440532013000123')).toEqual([]); // longer than a German IBAN
    expect(ibanValid('de89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('GB82 WEST 1234 5698 7654 33')).toBe(false);
  });

  it('256.1.1.1, version numbers, times, MAC addresses, C++ scopes', () => {
    expect(found('Not an address: 256.1.1.1 or 1.2.3.256')).toEqual([]);
    expect(found('Upgrade to version 1.2.3.4.5 or v1.2.3.4 or 10.0.19041.1')).toEqual([]);
    expect(found('At 12:30:45 on 2024-01-15T12:30:45Z')).toEqual([]);
    expect(found('MAC 00:1A:2B:3C:4D:5E')).toEqual([]);
    expect(found('Use std::vector<int> or Foo::Bar or a::b')).toEqual([]);
    expect(ipv6Valid('1:2:3:4:5:6:7')).toBe(false);
    expect(ipv6Valid('1::2::3')).toBe(false);
    expect(ipv6Valid('12345::1')).toBe(false);
  });

  it('dates, versions, decimals, ids and other numbers are not phones', () => {
    expect(found('Dates 2024-01-15, 15.01.2024, 01-15-2024, 2024/01/15 and 01.02.2024.')).toEqual([]);
    expect(found('Versions 0.19.1234, 1.22.333, 10.0.19041.1; pi 3.14159265; e 2.718281828')).toEqual([]);
    expect(found('Order #123456789012, unix time 1700000000, ISBN 978-3-16-148410-0, price $1,234,567.89')).toEqual([]);
    expect(found('Between 1990 2000 3000 4000 people and 10 20 30 40 50 items')).toEqual([]);
    expect(found('<Buffer 00 00 00 00 00>')).toEqual([]);
    expect(phoneValid('020 7946 0958')).toBe(true);
    expect(phoneValid('0.19.1234')).toBe(false);
    expect(phoneValid('+1 2')).toBe(false);
  });

  it('low-entropy, short, digit-free or reference values are not secrets', () => {
    expect(found('token=aaaaaaaaaaaaaaaaaaaaaaaa')).toEqual([]);
    expect(found('token=aaaaaaaaaaaaaaaaaaaaaaa1')).toEqual([]);
    expect(found('password: hunter2')).toEqual([]);
    expect(found('secret = process.env.MY_SECRET_VALUE_HERE')).toEqual([]);
    expect(found('tokenizer: meta-llama/Llama-3.2-1B-Instruct')).toEqual([]);
    expect(found('token_url: https://oauth2.googleapis.com/token2')).toEqual([]);
    expect(found('pip install sk-learn-is-not-the-right-package-name')).toEqual([]);
    expect(found('pad_token: <|endoftext|>')).toEqual([]);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });
});

describe('overlaps, redaction and counts', () => {
  it('one match per span, the more specific kind winning', () => {
    // The digits of an IBAN are not also a card or a phone; an email with digits is not a phone.
    expect(found('DE89 3704 0044 0532 0130 00')).toEqual([['iban', 'DE89 3704 0044 0532 0130 00']]);
    expect(found('reach 0612345678.0207946095@example.com')).toEqual([['email', '0612345678.0207946095@example.com']]);
    // An IPv4 embedded in an IPv6 address is one address.
    expect(found('::ffff:10.1.2.3')).toEqual([['ip', '::ffff:10.1.2.3']]);
    // A key that is also a generic `token=` value is reported once.
    expect(found('GITHUB_TOKEN=ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1234')).toEqual([['secret', 'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1234']]);
    const matches = scanPii('a@b.co 4111 1111 1111 1111 +44 20 7946 0958 10.0.0.1');
    expect(matches.map((m) => m.kind)).toEqual(['email', 'credit-card', 'phone', 'ip']);
    for (let i = 1; i < matches.length; i++) expect(matches[i]!.start).toBeGreaterThanOrEqual(matches[i - 1]!.end);
  });

  it('offsets point at the values', () => {
    const text = 'Write to ana@example.com or call +44 20 7946 0958.';
    for (const m of scanPii(text)) expect(text.slice(m.start, m.end)).toBe(m.value);
  });

  it('redactPii replaces each match with its placeholder', () => {
    const text =
      'Mail ana@example.com, call +44 20 7946 0958, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, host 192.168.1.20, key sk-proj-AbC123dEf456GhI789jKl012MnO345, api_key="a8F3kL9mQ2xZ7vB4nR6tY1wE5uI0oP".';
    expect(redactPii(text)).toBe('Mail [EMAIL], call [PHONE], card [CREDIT_CARD], IBAN [IBAN], host [IP], key [SECRET], api_key="[SECRET]".');
    expect(redactPii(text, ['email', 'ip'])).toBe(
      'Mail [EMAIL], call +44 20 7946 0958, card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, host [IP], key sk-proj-AbC123dEf456GhI789jKl012MnO345, api_key="a8F3kL9mQ2xZ7vB4nR6tY1wE5uI0oP".',
    );
    expect(redactPii('Nothing here, version 1.2.3, on 2024-01-15.')).toBe('Nothing here, version 1.2.3, on 2024-01-15.');
    expect(redactPii('')).toBe('');
  });

  it('countPii counts per kind, every kind present', () => {
    expect(countPii('a@b.co, c@d.io, 10.0.0.1, 4111-1111-1111-1111')).toEqual({ email: 2, phone: 0, 'credit-card': 1, iban: 0, ip: 1, secret: 0 });
    expect(countPii('')).toEqual({ email: 0, phone: 0, 'credit-card': 0, iban: 0, ip: 0, secret: 0 });
  });

  it('counts every match in a long text (its speed: npm run bench -- curation)', () => {
    const chunk = 'Contact ana@example.com or +44 20 7946 0958 about invoice 2024-01-15, version 1.2.3, host 10.0.0.1. ';
    const text = chunk.repeat(2000); // ~200 kB, 8,000 matches
    const counts = countPii(text);
    expect(counts).toEqual({ email: 2000, phone: 2000, 'credit-card': 0, iban: 0, ip: 2000, secret: 0 });
  });
});
