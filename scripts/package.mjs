// Assembles the npm package in pkg/: wasm-pack's bundler build at the root (for
// bundlers that load wasm modules: webpack 5, Vite with a wasm plugin) and its web
// build under web/ (for everything else: esbuild, <script type="module">), with
// `exports` and `types` so that both `wasm-eventsource` and `wasm-eventsource/web`
// resolve, with their TypeScript types.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = join(root, 'pkg');
const web = join(root, 'pkg-web');
for (const dir of [pkg, web]) {
  if (!existsSync(join(dir, 'package.json'))) {
    console.error(`package.mjs: ${dir} is missing; run scripts/build.sh first`);
    process.exit(1);
  }
}
rmSync(join(pkg, 'web'), { recursive: true, force: true });
mkdirSync(join(pkg, 'web'));
for (const file of ['wasm_eventsource.js', 'wasm_eventsource.d.ts', 'wasm_eventsource_bg.wasm', 'wasm_eventsource_bg.wasm.d.ts']) {
  cpSync(join(web, file), join(pkg, 'web', file));
}
const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
const out = {
  name: 'wasm-eventsource',
  version: meta.version,
  description: meta.description,
  license: meta.license,
  repository: meta.repository,
  keywords: meta.keywords,
  type: 'module',
  main: './wasm_eventsource.js',
  module: './wasm_eventsource.js',
  types: './wasm_eventsource.d.ts',
  exports: {
    '.': { types: './wasm_eventsource.d.ts', default: './wasm_eventsource.js' },
    './web': { types: './web/wasm_eventsource.d.ts', default: './web/wasm_eventsource.js' },
    './web/wasm_eventsource_bg.wasm': './web/wasm_eventsource_bg.wasm',
    './package.json': './package.json',
  },
  files: [
    'wasm_eventsource.js', 'wasm_eventsource_bg.js', 'wasm_eventsource_bg.wasm',
    'wasm_eventsource.d.ts', 'wasm_eventsource_bg.wasm.d.ts', 'web/', 'README.md',
  ],
  sideEffects: ['./wasm_eventsource.js', './snippets/*'],
};
writeFileSync(join(pkg, 'package.json'), `${JSON.stringify(out, null, 2)}\n`);
console.log(`package.mjs: pkg/ is the npm package ${out.name}@${out.version} (exports: ${Object.keys(out.exports).join(', ')})`);
