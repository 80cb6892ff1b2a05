/**
 * A read-only value shipped to each executor once (at its first task that uses it) and reached
 * inside closures through `env`: `rdd.map(x => b.value[x], { env: { b } })`.
 */
import { BROADCAST_ID } from '../codec/closure-spec.js';
import { FlintError } from '../errors.js';

export interface BroadcastManager {
  unpersistBroadcast(id: number): void;
  destroyBroadcast(id: number): void;
}

export class Broadcast<T> {
  readonly [BROADCAST_ID]: number;
  private destroyed = false;

  constructor(
    readonly id: number,
    private readonly _value: T,
    private readonly manager: BroadcastManager,
  ) {
    this[BROADCAST_ID] = id;
  }

  get value(): T {
    if (this.destroyed) throw new FlintError('BROADCAST_DESTROYED', `broadcast ${this.id} was destroyed`);
    return this._value;
  }

  /** Drops the copies on executors; they are shipped again if a later task needs them. */
  unpersist(): void {
    this.manager.unpersistBroadcast(this.id);
  }

  /** Drops every copy for good; later use is an error. */
  destroy(): void {
    this.destroyed = true;
    this.manager.destroyBroadcast(this.id);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  toString(): string {
    return `Broadcast(${this.id})`;
  }
}
