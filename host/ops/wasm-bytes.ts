/**
 * The one place that embeds build/flint.wasm (esbuild `loader: { '.wasm': 'binary' }`), so that
 * everything else in host/ops takes the bytes as a parameter and stays loadable from tests and
 * from a browser bundle that fetches the file instead.
 */
import wasmBytes from '../../build/flint.wasm';

export default wasmBytes;
