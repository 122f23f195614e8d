import type { Plugin } from 'vite';

const THREADED_FACTORY = /tfjs-backend-wasm-threaded-simd\.js$/;
/** The two places where the threaded factory reads `_scriptDir`, a variable of the function around it. */
const CLOSURE_READS: Array<[string, string]> = [
  ['if(typeof _scriptDir !== "undefined" && _scriptDir){scriptDirectory=_scriptDir}', ''],
  ['Module["mainScriptUrlOrBlob"]||_scriptDir', 'Module["mainScriptUrlOrBlob"]'],
];

/**
 * Makes TF.js's threaded wasm survive a minified build. Each wasm thread re-creates the factory from its
 * source text (`factory.toString()` in a Blob), so the factory must not read variables of the function around
 * it. It reads `_scriptDir` behind a typeof guard; a minifier renames it and drops the guard, since the name is
 * declared where it looks, and every thread then dies with "ReferenceError: e is not defined" (seen with vite 8).
 * TF.js gives the factory every path through locateFile, so `_scriptDir` is never needed: both reads go.
 */
export function threadedWasmPlugin(): Plugin {
  return {
    name: 'fl-threaded-wasm-factory',
    enforce: 'pre',
    transform(code, id) {
      if (!THREADED_FACTORY.test(id)) return null;
      let out = code;
      for (const [from, to] of CLOSURE_READS) {
        if (!out.includes(from)) this.error(`${id}: expected "${from}" (a new tfjs-backend-wasm?); see web-client/build/threaded-wasm-plugin.ts`);
        out = out.replaceAll(from, to);
      }
      return { code: out, map: null };
    },
  };
}
