/**
 * An RTCDataChannel as a byte channel for framed endpoints: between browser tabs, and between a tab
 * and a Node process (node-datachannel's W3C polyfill on the Node side). Written against the W3C
 * interface, so the same code adapts both. Frames stay within 64 KiB, the size every data channel
 * implementation carries without fragmentation trouble; bufferedAmount gives backpressure.
 */
import { framedEndpoint, type ByteChannel, type FramingOptions } from './framing.js';
import type { Endpoint } from './endpoint.js';
import { Inbox, frameOf } from './inbox.js';

/** The part of the W3C RTCDataChannel this adapter uses. */
export interface DataChannelLike {
  binaryType: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(data: Uint8Array): void;
  close(): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close' | 'error' | 'bufferedamountlow' | 'open', listener: (event: unknown) => void): void;
}

/** Data channels carry frames of at most this size. */
export const DATA_CHANNEL_FRAME_BYTES = 64 * 1024;

export function dataChannelChannel(channel: DataChannelLike): ByteChannel {
  channel.binaryType = 'arraybuffer';
  const inbox = new Inbox<Uint8Array>();
  const end = (reason?: Error) => inbox.end(reason);
  const drainHandlers: Array<() => void> = [];
  let closedByUs = false;
  channel.addEventListener('message', (event) => {
    const frame = frameOf(event.data);
    if (frame) {
      inbox.deliver(frame);
      return;
    }
    channel.close();
    end(new Error('the peer sent a text message on the data channel'));
  });
  channel.addEventListener('close', () => end(closedByUs ? undefined : new Error('the data channel closed')));
  channel.addEventListener('bufferedamountlow', () => {
    for (const h of drainHandlers.splice(0)) h();
  });
  channel.addEventListener('error', (event) => {
    const err = (event as { error?: Error }).error;
    end(new Error(`data channel error${err?.message ? `: ${err.message}` : ''}`));
  });
  return {
    send(frame) {
      if (inbox.ended || channel.readyState !== 'open') return;
      try {
        channel.send(frame);
      } catch (err) {
        // A channel whose other end just went can refuse a send before its readyState says so
        // (node-datachannel: "DataChannel is closed"), and a browser's refuses one over a full
        // buffer (16 MiB; the framing paces its writes to stay below that). Sends run in the
        // framing's flush, where a throw would end the whole process: the link ends instead, and
        // what it carried goes by the relay.
        closedByUs = true;
        try {
          channel.close();
        } catch {
          // already closed
        }
        end(new Error(`the data channel refused a message: ${(err as Error).message}`));
      }
    },
    onFrame: (handler) => inbox.onDelivery(handler),
    onClose: (handler) => inbox.onClose(handler),
    close() {
      if (inbox.ended) return;
      closedByUs = true;
      channel.close();
      end();
    },
    bufferedAmount: () => channel.bufferedAmount,
    onceDrained(threshold, handler) {
      if (channel.bufferedAmountLowThreshold !== threshold) channel.bufferedAmountLowThreshold = threshold;
      drainHandlers.push(handler);
    },
  };
}

/**
 * What a data channel may hold unsent before the framing waits for bufferedamountlow: browsers
 * refuse a send past 16 MiB queued; 4 MiB keeps the pipe full (NOTES.md measured 4 MB / 1 MB).
 */
export const DATA_CHANNEL_HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** A framed endpoint over an open data channel. */
export function dataChannelEndpoint(channel: DataChannelLike, options: FramingOptions = {}): Endpoint {
  return framedEndpoint(dataChannelChannel(channel), { frameBytes: DATA_CHANNEL_FRAME_BYTES, lowWaterBytes: 1024 * 1024, highWaterBytes: DATA_CHANNEL_HIGH_WATER_BYTES, ...options });
}
