/**
 * esbuild's binary loader decodes embedded files with `Uint8Array.fromBase64` when it targets
 * esnext (scripts/run-ts.mjs does), and Node 20 does not have it yet. Defining it here, imported
 * before the .wasm file, keeps wasm-bytes.ts working under any esbuild target.
 */
const U8 = Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array };
if (typeof U8.fromBase64 !== 'function') {
  Object.defineProperty(Uint8Array, 'fromBase64', {
    value(s: string): Uint8Array {
      const bin = atob(s);
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    },
    writable: true,
    configurable: true,
  });
}

export {};
