import { describe, expect, it } from 'vitest';
import { checkEndpointUrl } from './webhook-target.ts';

describe('checkEndpointUrl', () => {
  it.for([
    'https://hooks.example/in',
    // A hostname is judged at delivery, on the address it resolves to then.
    'http://localhost:8080/in',
    'https://93.184.215.14/in',
    'https://[2606:4700::1111]/in',
  ])('accepts %s', (url) => {
    expect(checkEndpointUrl(url, false)).toEqual({ ok: true, url: new URL(url).href });
  });

  it.for([
    'http://127.0.0.1/in',
    'http://10.1.2.3/in',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/in',
    'http://[::ffff:192.168.0.1]/in',
    'http://[fd00::1]/in',
  ])('refuses %s, naming TICKETFLOW_WEBHOOK_ALLOW_PRIVATE', (url) => {
    const check = checkEndpointUrl(url, false);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.reason).toContain('TICKETFLOW_WEBHOOK_ALLOW_PRIVATE');
  });

  it('accepts a private address when private targets are allowed', () => {
    expect(checkEndpointUrl('http://127.0.0.1:9000/in', true)).toEqual({
      ok: true,
      url: 'http://127.0.0.1:9000/in',
    });
  });

  it('passes on the shape check of the worker: scheme and credentials', () => {
    expect(checkEndpointUrl('ftp://hooks.example/in', true)).toMatchObject({ ok: false });
    expect(checkEndpointUrl('https://u:p@hooks.example/in', true)).toMatchObject({ ok: false });
  });
});
