/**
 * Results that strangers computed are verified by replication (BOINC's quorum): a task that ran on an
 * untrusted executor (every browser tab; a worker started with --untrusted) counts only when another
 * executor produced the same output digest; a disagreement is settled by more copies: the output
 * that at least two copies agree on and that more copies agree on than on any other wins, and
 * whoever disagreed with it is convicted: excluded from the application, everything it holds
 * recomputed. A trusted executor's output counts alone. Liars that each lie their own way never
 * agree with one another, so a plurality settles what a strict majority could not (two honest
 * copies against three different lies); liars that collude are out of reach of any quorum smaller
 * than their number.
 *
 * Replication is adaptive, as BOINC's: an executor that keeps agreeing (10 verified tasks in a row)
 * has its outputs spot-checked with probability 1/record (BOINC's rule: trusted with probability
 * 1 - 1/CV past 10 consecutive valid results), never below 5%, so an honest cluster pays far less
 * than twice. Results and map outputs are treated alike: an unchecked lie in a map output flows into
 * the job's result as surely as one in a result task does, so checking every result would add a
 * whole stage's worth of copies (the result stage ran twice, in sequence) without closing that door;
 * what deters is that an executor cannot tell which of its tasks will be copied.
 */
import { FlintError } from '../errors.js';
import type { TaskSuccess } from '../plan/plan.js';

export type VerifyMode = 'untrusted' | 'all' | 'none';

/** Copies of one task tried before giving up on finding two that agree. */
export const MAX_REPLICAS = 5;
/** Verified tasks in a row after which an executor's outputs are only spot-checked. */
export const TRUSTED_AFTER = 10;
const MIN_SPOT_CHECK = 0.05;

interface Candidate {
  executorId: string;
  trusted: boolean;
  attempt: number;
  result: TaskSuccess;
}

export type Verdict =
  /** `agreed`: executors whose copies matched (none when one copy counted alone). */
  | { kind: 'accept'; executorId: string; attempt: number; result: TaskSuccess; agreed: string[]; convicted: string[] }
  /** Run another copy, on none of `avoid`. */
  | { kind: 'replicate'; avoid: Set<string> }
  | { kind: 'fail'; error: FlintError };

export class Verifier {
  /** Verified tasks in a row per executor. */
  private readonly record = new Map<string, number>();
  /** Copies collected so far, by task set key and partition. */
  private readonly pending = new Map<string, Candidate[]>();
  readonly convicted = new Set<string>();

  constructor(
    readonly mode: VerifyMode,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Starts an executor's record at what its worker earned for earlier applications (the
   * coordinator's reputation of it), at most TRUSTED_AFTER, and never over one it built here. The
   * cap bounds what a forged record buys: anyone with the cluster token may connect as a driver and
   * report verifications of its own tab, so a carried record only spares a tab the first vetting;
   * checks past it start at 1 in 10, as for a tab that earned them here.
   */
  credit(executorId: string, verified: number): void {
    const credited = Math.min(verified, TRUSTED_AFTER);
    if (credited > (this.record.get(executorId) ?? 0)) this.record.set(executorId, credited);
  }

  /** Whether a task launched on an executor must report its output's digest. */
  needsDigest(trusted: boolean, key: string, partition: number): boolean {
    if (this.mode === 'none') return false;
    return this.mode === 'all' || !trusted || this.pending.has(`${key}#${partition}`);
  }

  /**
   * A copy of a task finished: accept it, ask for another copy, or give up. `alive` says whether an
   * executor is still there: of copies that agree, one on a live executor counts, since a map
   * output counts only where it can still be fetched.
   */
  onSuccess(
    key: string,
    partition: number,
    executorId: string,
    trusted: boolean,
    attempt: number,
    result: TaskSuccess,
    alive: (executorId: string) => boolean = () => true,
  ): Verdict {
    const id = `${key}#${partition}`;
    const candidates = this.pending.get(id) ?? [];
    if (candidates.length === 0 && !this.mustVerify(executorId, trusted)) {
      return { kind: 'accept', executorId, attempt, result, agreed: [], convicted: [] };
    }
    candidates.push({ executorId, trusted, attempt, result });
    this.pending.set(id, candidates);
    const winner = this.decide(candidates, alive);
    if (winner) {
      this.pending.delete(id);
      const agreed: string[] = [];
      const convicted: string[] = [];
      for (const c of candidates) {
        if (c.result.digest === winner.result.digest) {
          this.record.set(c.executorId, (this.record.get(c.executorId) ?? 0) + 1);
          agreed.push(c.executorId);
        } else if (!c.trusted) {
          this.convicted.add(c.executorId);
          convicted.push(c.executorId);
        }
      }
      return { kind: 'accept', executorId: winner.executorId, attempt: winner.attempt, result: winner.result, agreed, convicted };
    }
    if (candidates.length >= MAX_REPLICAS) {
      this.pending.delete(id);
      const digests = [...new Set(candidates.map((c) => c.result.digest?.slice(0, 12)))].join(', ');
      return {
        kind: 'fail',
        error: new FlintError(
          'JOB_ABORTED',
          `no output of partition ${partition} was agreed on by more of ${candidates.length} executors than any other (digests ${digests}): ` +
            "the task's functions are not deterministic (verification compares outputs), or too many executors lie; " +
            "use seeded randomness, or Flint.start({ verify: 'none' }) for executors you trust",
        ),
      };
    }
    return { kind: 'replicate', avoid: new Set(candidates.map((c) => c.executorId)) };
  }

  /** A copy that will not come (its attempt failed for good, or its stage ended): forget the quorum. */
  forget(key: string, partition: number): void {
    this.pending.delete(`${key}#${partition}`);
  }

  private mustVerify(executorId: string, trusted: boolean): boolean {
    if (this.mode === 'none') return false;
    if (this.mode === 'untrusted' && trusted) return false;
    const streak = this.record.get(executorId) ?? 0;
    if (streak < TRUSTED_AFTER) return true;
    return this.random() < Math.max(MIN_SPOT_CHECK, 1 / streak);
  }

  /** The copy whose output counts, if the copies so far settle it: a live executor's, where one agreed. */
  private decide(candidates: Candidate[], alive: (executorId: string) => boolean): Candidate | null {
    if (this.mode === 'untrusted') {
      const trusted = candidates.find((c) => c.trusted && alive(c.executorId)) ?? candidates.find((c) => c.trusted);
      if (trusted) return trusted;
    }
    const byDigest = new Map<string | undefined, Candidate[]>();
    for (const c of candidates) {
      const group = byDigest.get(c.result.digest) ?? [];
      group.push(c);
      byDigest.set(c.result.digest, group);
    }
    // A plurality of at least two (copies come one by one, so the first output two copies agree on).
    const groups = [...byDigest.values()].sort((a, b) => b.length - a.length);
    const [first, second] = groups;
    if (first!.length >= 2 && (second === undefined || first!.length > second.length)) {
      return first!.find((c) => c.trusted && alive(c.executorId)) ?? first!.find((c) => alive(c.executorId)) ?? first!.find((c) => c.trusted) ?? first![0]!;
    }
    return null;
  }
}
