/**
 * Word count: the classic first job. Reads the sample text (or the files given as arguments),
 * counts words and prints the 20 most frequent ones.
 *
 *   npx flint run examples/wordcount.ts [--master local[N]] [-- <file|dir|glob>]
 */
import { Flint } from 'flint';

const input = process.argv[2] ?? 'data/sample.txt';

const fl = await Flint.start({ appName: 'wordcount' });
const counts = fl
  .textFile(input)
  .flatMap((line) => line.toLowerCase().split(/[^\p{L}\p{N}']+/u))
  .filter((w) => w.length > 0)
  .map((w) => [w, 1] as [string, number])
  .reduceByKey('sum');

const top = await counts.takeOrdered(20, ([word, n]) => [-n, word]);
const width = Math.max(...top.map(([w]) => w.length));
console.log(`Top 20 words in ${input} (master ${fl.master}):`);
for (const [word, n] of top) console.log(`  ${word.padEnd(width)}  ${n}`);
await fl.stop();
