// Builds the browser SDK: dist/warden.mjs (ES module) and dist/warden.js (script tag, global
// `Warden`). The dist files are checked in because the server serves them without a build step;
// test/bundle.test.ts fails when they differ from a fresh build.
//
//   node packages/sdk-browser/build.mjs            (or: npm run build:sdk)
//   node packages/sdk-browser/build.mjs OUT_DIR    (builds elsewhere; the test uses it)
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));

/** Browsers from 2021 on: Chrome/Edge 88, Firefox 85, Safari 14 all run ES2020. */
const target = 'es2020';

/**
 * src/common-passwords.ts slices zxcvbn-ts's password list at run time, which in a bundle would
 * still carry the whole list (about 180 KB gzipped). This plugin runs that module in Node and
 * hands esbuild its result instead, so the bundle holds only the kept entries.
 */
const commonPasswordsPlugin = {
  name: 'warden-common-passwords',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]common-passwords\.ts$/ }, async (args) => {
      const bundled = await esbuild.build({
        entryPoints: [args.path],
        bundle: true,
        format: 'esm',
        platform: 'node',
        write: false,
        logLevel: 'silent',
      });
      const code = bundled.outputFiles[0].text;
      const module = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
      const words = module.COMMON_PASSWORDS;
      if (words.some((word) => word.includes('\n'))) throw new Error('a common password holds a newline');
      return {
        contents: `export const COMMON_PASSWORDS = ${JSON.stringify(words.join('\n'))}.split('\\n');\n`,
        loader: 'js',
      };
    });
  },
};

// The libraries' own copyright banners are not marked as legal comments, so minifying drops them;
// the MIT License asks that its notice go with every copy, hence this one banner for all of them.
const banner = `/*! Warden browser SDK. Includes FingerprintJS and BotD, Copyright (c) 2025 FingerprintJS, Inc;
zxcvbn-ts, Copyright (c) 2012-2016 Dan Wheeler and Dropbox, Inc., Copyright (c) 2021 @zxcvbn-ts;
fastest-levenshtein, Copyright (c) 2020 Kasper Unn Weihe. Each under the MIT License:
Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions: The above copyright notice and this
permission notice shall be included in all copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE. */`;

/** Builds both bundles into `outDir` and returns their paths. */
export async function buildSdk(outDir = join(root, 'dist')) {
  await mkdir(outDir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    target,
    platform: 'browser',
    legalComments: 'none',
    banner: { js: banner },
    plugins: [commonPasswordsPlugin],
    logLevel: 'warning',
  };
  const esm = join(outDir, 'warden.mjs');
  const iife = join(outDir, 'warden.js');
  await esbuild.build({ ...common, entryPoints: [join(root, 'src/index.ts')], format: 'esm', outfile: esm });
  await esbuild.build({
    ...common,
    entryPoints: [join(root, 'src/global.ts')],
    format: 'iife',
    globalName: 'Warden',
    outfile: iife,
  });
  return { esm, iife };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const out = await buildSdk(process.argv[2] ? resolve(process.argv[2]) : undefined);
  console.log(`built ${out.esm} and ${out.iife}`);
}
