import { describe, expect, it } from 'vitest';
import { withoutRefusedFlags, workerExecArgv } from '../../host/node/worker-exec-argv.js';

describe('workerExecArgv', () => {
  it('inherits (undefined) when no option would break a worker', () => {
    expect(workerExecArgv([])).toBeUndefined();
    expect(workerExecArgv(['--enable-source-maps', '--import', 'tsx', '--max-old-space-size=4096'])).toBeUndefined();
  });

  it('drops the options that choose the entry point, with their values', () => {
    expect(workerExecArgv(['--input-type=module', '-e', 'code'])).toEqual([]);
    expect(workerExecArgv(['--conditions=dev', '--input-type', 'module', '--eval', 'x', '--no-warnings'])).toEqual(['--conditions=dev', '--no-warnings']);
    expect(workerExecArgv(['-p', '1+1'])).toEqual([]);
    expect(workerExecArgv(['--test', '--test-reporter', 'dot', '--watch', '--import', 'a.mjs'])).toEqual(['--import', 'a.mjs']);
  });

  it('removes what Node refuses in an explicit execArgv, values included', () => {
    const refusal = Object.assign(new Error('Initiated Worker with invalid execArgv flags: --max-old-space-size=100, --stack-size'), {
      code: 'ERR_WORKER_INVALID_EXEC_ARGV',
    });
    expect(withoutRefusedFlags(['--max-old-space-size=100', '--stack-size', '900', '--no-warnings'], refusal)).toEqual(['--no-warnings']);
    expect(withoutRefusedFlags(['--no-warnings'], new Error('other'))).toBeNull();
  });
});
