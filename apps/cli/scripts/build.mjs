// Bundles the CLI and the workspace packages it imports into one ESM file, so production runs
// plain `node` with no TypeScript loader; npm dependencies stay external (node_modules).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/ticketflow.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  plugins: [
    {
      name: 'bundle-workspaces-only',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@ticketflow/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
