#!/usr/bin/env node
// Packs @ticketflow/contract for producers outside this repository: `npm run tarball -w
// @ticketflow/contract [-- DIR]` writes ticketflow-contract-<version>.tgz into DIR (default: where
// npm was run) and prints its path. Inside the monorepo the package is its TypeScript
// sources; the tarball holds JavaScript with type declarations, so a producer needs plain Node
// and BullMQ, no TypeScript loader. Its only dependency is zod, as here.
import { execFileSync } from 'node:child_process';
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(here, 'dist/package');
const destination = resolve(process.argv[2] ?? process.env.INIT_CWD ?? process.cwd());
const source = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'));

await rm(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.pack.json')], { stdio: 'inherit' });
// tsc rewrites `./x.ts` imports to `./x.js` in the JavaScript only: the declarations must name
// the files that ship too, in `from './x.ts'` and in `import("./x.ts")` types alike.
const relativeTs = /(['"])(\.\.?\/[^'"]+)\.ts\1/g;
for (const file of await readdir(join(out, 'dist'))) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join(out, 'dist', file);
  const text = (await readFile(path, 'utf8')).replace(relativeTs, '$1$2.js$1');
  if (/\.ts['"]/.test(text)) throw new Error(`${file} still names a .ts file`);
  await writeFile(path, text);
}
for (const file of ['reply-job.v1.schema.json', 'CHANGELOG.md']) {
  await cp(join(here, file), join(out, file));
}
await writeFile(
  join(out, 'package.json'),
  `${JSON.stringify(
    {
      name: source.name,
      version: source.version,
      description:
        'Ticketflow reply job contract v1: types, validator, JSON Schema and enqueueReply for producers',
      type: 'module',
      engines: { node: '>=20.19' },
      exports: {
        '.': { types: './dist/index.d.ts', default: './dist/index.js' },
        './reply-job.v1.schema.json': './reply-job.v1.schema.json',
      },
      files: ['dist', 'reply-job.v1.schema.json', 'CHANGELOG.md'],
      dependencies: source.dependencies,
    },
    null,
    2,
  )}\n`,
);
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', destination], {
    cwd: out,
    encoding: 'utf8',
  }),
);
console.log(join(destination, packed[0].filename));
