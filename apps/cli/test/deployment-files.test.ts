import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '@ticketflow/config';

// No Docker engine runs here, so the deployment files are checked against the code instead.
const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const workspaces = ['apps', 'packages'].flatMap((group) =>
  readdirSync(new URL(`${group}/`, root)).map((name) => `${group}/${name}`),
);

describe('deployment files', () => {
  it('copies every workspace manifest into the image before npm ci', () => {
    const dockerfile = read('Dockerfile');
    for (const ws of workspaces) {
      expect(dockerfile).toContain(`COPY ${ws}/package.json ${ws}/package.json`);
    }
  });

  it('sets only variables the configuration reads, and runs commands the CLI has', () => {
    const compose = read('docker-compose.yml');
    const variables = [...compose.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    const ours = variables.filter((v) => !v.startsWith('POSTGRES_'));
    expect(ours.length).toBeGreaterThan(3);
    for (const name of ours) expect(CONFIG_VARIABLES).toContain(name);
    const commands = [
      ...compose.matchAll(/command: \[["'](serve|migrate|bridge)["'](?:, ["'](--\w+)["'])?/g),
    ];
    expect(commands.map((m) => [m[1], m[2]])).toEqual([
      ['migrate', undefined],
      ['serve', '--ingress'],
      ['serve', '--worker'],
      ['bridge', '--lmtp'],
    ]);
  });

  it('runs Redis without eviction and with an append-only file', () => {
    const compose = read('docker-compose.yml');
    expect(compose).toMatch(/["']--maxmemory-policy["'],\s*["']noeviction["']/);
    expect(compose).toMatch(/["']--appendonly["'],\s*["']yes["']/);
  });

  it('gives the workers an SMTP server (Mailpit) and a Message-ID key, so no mail is only a file', () => {
    const compose = read('docker-compose.yml');
    expect(compose).toMatch(/^ {2}mailpit:\n {4}image: axllent\/mailpit:/m);
    expect(compose).toMatch(/^ {2}SMTP_URL: smtp:\/\/mailpit:1025$/m);
    expect(compose).toMatch(/^ {2}TICKETFLOW_MAIL_SECRET: \$\{TICKETFLOW_MAIL_SECRET:\?/m);
  });
});
