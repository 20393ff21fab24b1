// Builds frontend/dist: index.html plus content-hashed assets under dist/assets/.
// The server serves dist/ at "/" and answers the portal's POSTs with dist/index.html (plus the
// injected boot object), so every asset URL in index.html is absolute ("/assets/…").
//   node build.mjs              production build (minified, no source maps)
//   node build.mjs --sourcemap  the same with linked source maps
import * as esbuild from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
const sourcemap = process.argv.includes('--sourcemap');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: { app: 'src/main.ts' },
    outdir: dist,
    entryNames: 'assets/[name]-[hash]',
    chunkNames: 'assets/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    publicPath: '/',
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: sourcemap ? 'linked' : false,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
});

// Find the entry's JS and CSS in the metafile.
let entryJs = null;
let entryCss = null;
const preload = [];
for (const [file, out] of Object.entries(result.metafile.outputs)) {
    const rel = '/' + path.relative(dist, path.join(here, file)).split(path.sep).join('/');
    if (out.entryPoint === 'src/main.ts' && file.endsWith('.js')) {
        entryJs = rel;
        for (const imp of out.imports) {
            if (imp.kind === 'import-statement') {
                preload.push('/' + path.relative(dist, path.join(here, imp.path)).split(path.sep).join('/'));
            }
        }
    }
    if (file.endsWith('.css') && out.cssBundle === undefined && file.includes('/app-')) {
        entryCss = rel;
    }
}
if (!entryJs || !entryCss) {
    throw new Error(`build: entry outputs not found (js=${entryJs}, css=${entryCss})`);
}

const tags = [
    `<link rel="stylesheet" href="${entryCss}">`,
    ...preload.map((p) => `<link rel="modulepreload" href="${p}">`),
    `<script type="module" src="${entryJs}"></script>`,
].join('\n');
const template = await readFile(path.join(here, 'src/index.html'), 'utf8');
if (!template.includes('<!--b24seg:assets-->') || template.split('</head>').length !== 2) {
    throw new Error('build: src/index.html must hold one <!--b24seg:assets--> and one </head>');
}
await writeFile(path.join(dist, 'index.html'), template.replace('<!--b24seg:assets-->', tags));

const sizes = Object.entries(result.metafile.outputs)
    .filter(([f]) => !f.endsWith('.map'))
    .map(([f, o]) => `  ${path.relative(here, path.join(here, f))}  ${(o.bytes / 1024).toFixed(1)} KiB`);
console.log(`built dist/index.html\n${sizes.join('\n')}`);
