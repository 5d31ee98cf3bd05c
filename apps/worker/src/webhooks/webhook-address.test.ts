import { describe, expect, it } from 'vitest';
import { checkWebhookUrl, isPublicAddress } from './webhook-address.ts';

describe('checkWebhookUrl', () => {
  it.each(['https://hooks.example.com/ticketflow?x=1', 'http://203.0.113.9:8080/in'])(
    'accepts %s',
    (raw) => {
      const checked = checkWebhookUrl(raw);
      expect(checked.ok && checked.url.href).toBe(new URL(raw).href);
    },
  );

  it.each([
    ['a file: URL that would read local files', 'file:///etc/passwd', /http or https, not "file:"/],
    ['an ftp: URL', 'ftp://example.com/x', /webhook URLs must use http or https, not "ftp:"/],
    ['a gopher: URL, the classic SSRF smuggler', 'gopher://127.0.0.1:6379/_PING', /"gopher:"/],
    ['a URL with a username and password', 'https://user:pw@example.com/', /username or password/],
    ['a URL with a username only', 'https://user@example.com/', /username or password/],
    ['a URL without a host', 'https:///', /not a full URL/],
    ['a relative path', '/webhooks', /not a full URL/],
  ])('refuses %s', (_case, raw, reason) => {
    const checked = checkWebhookUrl(raw);
    expect(checked.ok).toBe(false);
    expect(!checked.ok && checked.reason).toMatch(reason);
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['a public IPv4 address', '8.8.8.8'],
    ['the first address after 172.16/12', '172.32.0.1'],
    ['the first address after CGNAT 100.64/10', '100.128.0.1'],
    ['a public IPv6 address', '2606:4700:4700::1111'],
    ['a public IPv4 address mapped into IPv6', '::ffff:8.8.8.8'],
  ])('allows %s', (_case, ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it.each([
    ['refuses the cloud metadata address 169.254.169.254', '169.254.169.254'],
    ['refuses IPv4 loopback', '127.0.0.1'],
    ['refuses the far end of 127/8', '127.255.255.254'],
    ['refuses 10/8', '10.0.0.1'],
    ['refuses 172.16/12', '172.31.255.255'],
    ['refuses 192.168/16', '192.168.1.1'],
    ['refuses CGNAT 100.64/10', '100.64.0.1'],
    ['refuses the unspecified address 0.0.0.0', '0.0.0.0'],
    ['refuses 0.0.0.0/8, which Linux routes to the local host', '0.1.2.3'],
    ['refuses multicast', '224.0.0.1'],
    ['refuses broadcast', '255.255.255.255'],
    ['refuses reserved 240/4', '240.0.0.1'],
    ['refuses the documentation range 192.0.2/24', '192.0.2.1'],
    ['refuses the benchmarking range 198.18/15', '198.18.0.1'],
    ['refuses IPv6 loopback ::1', '::1'],
    ['refuses the IPv6 unspecified address ::', '::'],
    ['refuses IPv6 link-local fe80::/10', 'fe80::1'],
    ['refuses IPv6 link-local with a zone index', 'fe80::1%eth0'],
    ['refuses unique local fc00::/7', 'fd00::1'],
    ['refuses the AWS IPv6 metadata address fd00:ec2::254', 'fd00:ec2::254'],
    ['refuses IPv6 multicast', 'ff02::1'],
    ['refuses ::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['refuses ::ffff:7f00:1, the hex spelling of ::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['refuses the metadata address mapped into IPv6', '::ffff:169.254.169.254'],
    ['refuses the IPv4-compatible ::127.0.0.1', '::127.0.0.1'],
    ['refuses NAT64 64:ff9b::/96 embedding 10.0.0.1', '64:ff9b::a00:1'],
    ['refuses 6to4 embedding 127.0.0.1', '2002:7f00:1::'],
    ['refuses Teredo', '2001:0:4136:e378:8000:63bf:3fff:fdd2'],
    ['refuses the IPv6 documentation range', '2001:db8::1'],
    ['refuses deprecated site-local fec0::/10', 'fec0::1'],
    ['refuses the decimal spelling 2130706433 of 127.0.0.1', '2130706433'],
    ['refuses the hex spelling 0x7f.1 of 127.0.0.1', '0x7f.1'],
    ['refuses the octal spelling 0177.0.0.1 of 127.0.0.1', '0177.0.0.1'],
    ['refuses a host name, which is not an address', 'localhost'],
    ['refuses an empty string', ''],
  ])('%s', (_case, ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });
});
