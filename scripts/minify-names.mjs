// Usage: node scripts/minify-names.mjs OUT_DIR
//
// Shortens the names the wasm and its JavaScript glue (wasm-bindgen's `web` target) use
// to talk to each other, in OUT_DIR/wasm_eventsource_bg.wasm and wasm_eventsource.js.
// wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` under a module path
// such as `./wasm_eventsource_bg.js`, and each closure's export after its Rust type
// (up to 190 characters): about a hundred of them, spelled out once in the wasm and
// once in the glue, where neither a minifier nor gzip can shorten them (the hashes
// do not compress, and bundlers keep property names). Here every import becomes a
// one- or two-letter name under the one module `a`, and every export but `memory`
// (part of `init()`'s documented result) a short name too. Nothing else changes: the
// code, the glue's functions and the package's API are the same.
//
// The glue is rewritten by name, and checked afterwards: every import the wasm now
// asks for is provided, every `wasm.<name>` the glue calls is exported, and none of the
// old names is left. Any mismatch (a new wasm-bindgen glue layout) fails the build
// rather than shipping a package that cannot instantiate.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) die('usage: node scripts/minify-names.mjs OUT_DIR');
const wasmPath = join(dir, 'wasm_eventsource_bg.wasm');
const gluePath = join(dir, 'wasm_eventsource.js');
const KEEP_EXPORTS = new Set(['memory']);
const MODULE = 'a';

function die(message) {
  console.error(`minify-names: ${message}`);
  process.exit(1);
}

// Short names: a..z, A..Z, then two characters, skipping JS reserved words is not
// needed (they are only ever property names).
function* shortNames() {
  const first = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$';
  const rest = first + '0123456789';
  for (const c of first) yield c;
  for (const c of first) for (const d of rest) yield c + d;
  die('more than 3,000 names');
}

// --- The wasm binary: the import (2) and export (7) sections, re-encoded.

function readU32(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [value, at];
    shift += 7;
    if (shift > 35) die('a malformed LEB128 number in the wasm');
  }
}

function u32(value) {
  const out = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) b |= 0x80;
    out.push(b);
  } while (value);
  return out;
}

const utf8 = new TextEncoder();
const text = new TextDecoder('utf-8', { fatal: true });
const name = (s) => [...u32(utf8.encode(s).length), ...utf8.encode(s)];

function readName(bytes, at) {
  const [len, start] = readU32(bytes, at);
  return [text.decode(bytes.subarray(start, start + len)), start + len];
}

// The length of an import's description after its kind byte.
function skipImportDesc(bytes, kind, at) {
  const limits = (p) => {
    const flags = bytes[p++];
    [, p] = readU32(bytes, p);
    if (flags & 1) [, p] = readU32(bytes, p);
    return p;
  };
  switch (kind) {
    case 0: return readU32(bytes, at)[1]; // function: type index
    case 1: return limits(at + 1); // table: reftype, limits
    case 2: return limits(at); // memory: limits
    case 3: return at + 2; // global: valtype, mutability
    case 4: return readU32(bytes, at + 1)[1]; // tag: attribute, type index
    default: die(`an import of unknown kind ${kind}`);
  }
}

if (readFileSync(gluePath, 'utf8').includes(`${MODULE}: Object.assign(import0,`)) {
  console.error(`minify-names: ${dir} is already shortened`);
  process.exit(0);
}
const wasm = readFileSync(wasmPath);
if (wasm.readUInt32LE(0) !== 0x6d736100) die(`${wasmPath} is not a wasm module`);
const importMap = []; // [module, old name, new name]
const exportMap = new Map(); // old name -> new name
const parts = [wasm.subarray(0, 8)]; // the module's bytes, section by section
let at = 8;
const importNames = shortNames();
const exportNames = shortNames();
while (at < wasm.length) {
  const id = wasm[at];
  const [size, bodyAt] = readU32(wasm, at + 1);
  const end = bodyAt + size;
  if (id !== 2 && id !== 7) {
    parts.push(wasm.subarray(at, end));
    at = end;
    continue;
  }
  let [count, p] = readU32(wasm, bodyAt);
  const body = [...u32(count)];
  for (let i = 0; i < count; i++) {
    if (id === 2) {
      let module, field;
      [module, p] = readName(wasm, p);
      [field, p] = readName(wasm, p);
      const kind = wasm[p];
      const descEnd = skipImportDesc(wasm, kind, p + 1);
      const short = importNames.next().value;
      importMap.push([module, field, short]);
      body.push(...name(MODULE), ...name(short), ...wasm.subarray(p, descEnd));
      p = descEnd;
    } else {
      let field;
      [field, p] = readName(wasm, p);
      const kind = wasm[p];
      const [, descEnd] = readU32(wasm, p + 1);
      const short = KEEP_EXPORTS.has(field) ? field : exportNames.next().value;
      if (!KEEP_EXPORTS.has(field)) exportMap.set(field, short);
      body.push(...name(short), ...wasm.subarray(p, descEnd));
      p = descEnd;
    }
  }
  if (p !== end) die(`section ${id} did not read to its end`);
  parts.push(Buffer.from([id, ...u32(body.length), ...body]));
  at = end;
}
if (!importMap.length) die('the wasm has no imports: already minified?');
const out = Buffer.concat(parts);

// --- The glue.

let glue = readFileSync(gluePath, 'utf8');
const escape = (s) => s.replace(/[$]/g, '\\$&');
// The import object: `return { __proto__: null, "<module>": importN, ... };` at the end
// of __wbg_get_imports, where import0 is the glue's own object literal and the others
// are the snippets' namespaces.
const returnRe = /return \{\n\s*__proto__: null,\n((?:\s*"[^"]+": import\d+,\n)+)\s*\};/;
const found = glue.match(returnRe);
if (!found) die('the glue has no import object of the expected form (wasm-bindgen changed?)');
const moduleVar = new Map([...found[1].matchAll(/"([^"]+)": (import\d+)/g)].map((m) => [m[1], m[2]]));
const own = moduleVar.get('./wasm_eventsource_bg.js');
if (own !== 'import0') die('the glue\'s own imports are not import0');
const extra = [];
for (const [module, field, short] of importMap) {
  const variable = moduleVar.get(module);
  if (!variable) die(`the glue has no import object for module ${module}`);
  if (variable === own) {
    // The key of import0's literal: `        <field>: function(` (or a value).
    const keyRe = new RegExp(`^(\\s+)${escape(field)}:`, 'm');
    if (!keyRe.test(glue)) die(`the glue does not define the import ${field}`);
    // A function, not a replacement string: a name with `$` in it is taken literally.
    glue = glue.replace(keyRe, (_, indent) => `${indent}${short}:`);
  } else {
    extra.push(`${short}: ${variable}.${field}`);
  }
}
glue = glue.replace(returnRe, () => `return { __proto__: null, ${MODULE}: Object.assign(import0, { ${extra.join(', ')} }) };`);
for (const [field, short] of exportMap) {
  glue = glue.replace(new RegExp(`\\bwasm\\.${escape(field)}\\b`, 'g'), () => `wasm.${short}`);
}

// --- Checks: the new names line up; the old ones are gone.

const exported = new Set([...exportMap.values(), ...KEEP_EXPORTS]);
for (const m of glue.matchAll(/\bwasm\.([\w$]+)/g)) {
  if (!exported.has(m[1])) die(`the glue calls wasm.${m[1]}, which the wasm does not export`);
}
for (const [, field] of importMap) {
  if (field.length > 3 && new RegExp(`\\b${escape(field)}:`).test(glue)) die(`the old import name ${field} is left in the glue`);
}
const module = new WebAssembly.Module(out);
const wanted = WebAssembly.Module.imports(module);
if (wanted.some((i) => i.module !== MODULE)) die('an import is outside the module a');

writeFileSync(wasmPath, out);
writeFileSync(gluePath, glue);
// The exports' types, for the shortened names: only `memory` keeps its name, so only it
// is declared (InitOutput is otherwise internal to the glue).
for (const file of ['wasm_eventsource.d.ts', 'wasm_eventsource_bg.wasm.d.ts']) {
  const path = join(dir, file);
  if (!existsSync(path)) continue;
  let dts = readFileSync(path, 'utf8');
  dts = dts.replace(/(export interface InitOutput \{\n)[\s\S]*?\n\}/, '$1    readonly memory: WebAssembly.Memory;\n}');
  dts = dts.replace(/^export const (?!memory\b).*\n/gm, '');
  writeFileSync(path, dts);
}
console.error(`minify-names: ${importMap.length} imports, ${exportMap.size} exports shortened (${wasm.length} -> ${out.length} bytes of wasm)`);
