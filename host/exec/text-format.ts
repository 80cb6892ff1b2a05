/**
 * How `saveAsTextFile` writes a record as one line: the JavaScript analogue of PySpark's
 * `str(record)`, chosen so that no record type loses data (JSON.stringify wrote a Map as `{}`).
 *
 * - At the top level a string is written as it is, a Uint8Array as its UTF-8 text, a number as
 *   `String(x)` (with `-0`), a bigint as its digits, a Date as its ISO form, and booleans, null and
 *   undefined as their names: what PySpark does for str, bytes and numbers.
 * - Everything else (and every value nested inside) is written in JSON, extended where JSON has
 *   no notation with JavaScript's own: `NaN`, `Infinity`, `-0`, `undefined`, `12n` for a bigint,
 *   a Date as its bare ISO form, `Map {"a" => 1, 2 => [3]}`, `Set {1, "x"}` and typed arrays as
 *   `Uint8Array [104,105]`. Nested strings are always JSON string literals, so the line of a
 *   record made of JSON values alone (arrays, plain objects, strings, finite numbers, booleans,
 *   null) is exactly its JSON text and reads back with JSON.parse, -0 included.
 * Two different nested values never give the same text; a top-level string and a top-level value
 * whose text it spells do (as in PySpark, where "[1, 2]" and [1, 2] print alike).
 */
import { encodeValue } from '../codec/records.js';
import { FlintError } from '../errors.js';

const utf8 = new TextDecoder();
const objectProto = Object.prototype;
const MAX_DEPTH = 512;

export function formatLine(x: unknown): string {
  switch (typeof x) {
    case 'string':
      return x;
    case 'number':
      return formatNumber(x);
    case 'bigint':
      return x.toString();
    case 'object':
      if (x instanceof Uint8Array) return utf8.decode(x);
      return formatValue(x, x, 0);
    default:
      return formatValue(x, x, 0);
  }
}

function formatNumber(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

function formatValue(v: unknown, record: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return formatNumber(v);
    case 'bigint':
      return `${v}n`;
    case 'boolean':
      return String(v);
    case 'undefined':
      return 'undefined';
    case 'object': {
      if (v === null) return 'null';
      if (depth > MAX_DEPTH) throw unsupported(record);
      const inner = (x: unknown) => formatValue(x, record, depth + 1);
      if (Array.isArray(v)) {
        const parts: string[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) parts[i] = inner(v[i]);
        return `[${parts.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto === objectProto || proto === null) {
        return `{${Object.keys(v)
          .map((k) => `${JSON.stringify(k)}:${inner((v as Record<string, unknown>)[k])}`)
          .join(',')}}`;
      }
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
      if (v instanceof Map) return `Map {${[...v].map(([k, x]) => `${inner(k)} => ${inner(x)}`).join(', ')}}`;
      if (v instanceof Set) return `Set {${[...v].map(inner).join(', ')}}`;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
        const items = Array.from(v as unknown as ArrayLike<number | bigint>, inner);
        return `${typedArrayName(v)} [${items.join(',')}]`;
      }
      throw unsupported(record);
    }
    default:
      throw unsupported(record);
  }
}

function typedArrayName(v: ArrayBufferView): string {
  // A Node Buffer is a Uint8Array for records (it decodes as one).
  return v instanceof Uint8Array ? 'Uint8Array' : (v.constructor as { name: string }).name;
}

/** The record codec's own message names the offending value and where it sits. */
function unsupported(record: unknown): FlintError {
  try {
    encodeValue(record);
  } catch (err) {
    if (err instanceof FlintError) return err;
  }
  return new FlintError('UNSUPPORTED_RECORD', 'Unsupported record: it cannot be written as text');
}
