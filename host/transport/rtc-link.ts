/**
 * Opening a WebRTC data channel between two peers whose signals (offer, answer, ICE candidates)
 * travel some other way — the coordinator's WebSocket. Written against the W3C RTCPeerConnection,
 * so browsers use their own and Node uses node-datachannel's polyfill.
 *
 * The offerer holds its ICE candidates until it has applied the answer: node-datachannel may start
 * DTLS before the offerer knows the answer otherwise ("DTLS alert: unknown CA", seen in 7 of 20
 * connects on this machine; none in 40 with the hold — NOTES.md).
 */
import type { DataChannelLike } from './data-channel.js';

export type RtcSignal =
  | { kind: 'offer' | 'answer'; sdp: string }
  | { kind: 'candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

/** The part of the W3C RTCPeerConnection used here. */
export interface PeerConnectionLike {
  readonly connectionState: string;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description: { type: string; sdp?: string }): Promise<void>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  addIceCandidate(candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }): Promise<void>;
  createDataChannel(label: string, options?: { ordered?: boolean }): DataChannelLike;
  addEventListener(type: 'icecandidate', listener: (event: { candidate: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } | null }) => void): void;
  addEventListener(type: 'datachannel', listener: (event: { channel: DataChannelLike }) => void): void;
  addEventListener(type: 'connectionstatechange', listener: () => void): void;
  close(): void;
}

export interface RtcLinkOptions {
  pc: PeerConnectionLike;
  role: 'offerer' | 'answerer';
  sendSignal(signal: RtcSignal): void;
  /** Signals from the other peer are handed to the returned `signal` function. */
  timeoutMs: number;
}

export interface RtcLink {
  /** Resolves with the open data channel, or rejects when none opens in time. */
  channel: Promise<DataChannelLike>;
  /** Feeds a signal from the other peer. */
  signal(signal: RtcSignal): void;
  close(): void;
}

/** Candidates in the SDP itself would reach the answerer before the offerer could hold them. */
function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && !line.startsWith('a=end-of-candidates'))
    .join('\r\n');
}

export function openRtcLink({ pc, role, sendSignal, timeoutMs }: RtcLinkOptions): RtcLink {
  let remoteApplied = false;
  const heldLocal: RtcSignal[] = [];
  const heldRemote: RtcSignal[] = [];
  let settled = false;
  let resolveChannel!: (c: DataChannelLike) => void;
  let rejectChannel!: (e: Error) => void;
  const channel = new Promise<DataChannelLike>((resolve, reject) => {
    resolveChannel = resolve;
    rejectChannel = reject;
  });
  const fail = (why: string) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    pc.close();
    rejectChannel(new Error(why));
  };
  const timer = setTimeout(() => fail(`no data channel opened within ${timeoutMs} ms`), timeoutMs);
  const opened = (dc: DataChannelLike) => {
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolveChannel(dc);
    };
    if (dc.readyState === 'open') done();
    else dc.addEventListener('open', done);
  };
  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed') fail('the peer connection failed');
  });
  pc.addEventListener('icecandidate', (event) => {
    if (!event.candidate || !event.candidate.candidate) return;
    const signal: RtcSignal = { kind: 'candidate', candidate: event.candidate.candidate, sdpMid: event.candidate.sdpMid, sdpMLineIndex: event.candidate.sdpMLineIndex };
    if (role === 'offerer' && !remoteApplied) heldLocal.push(signal);
    else sendSignal(signal);
  });
  const applyCandidate = (s: Extract<RtcSignal, { kind: 'candidate' }>) =>
    pc.addIceCandidate({ candidate: s.candidate, sdpMid: s.sdpMid, sdpMLineIndex: s.sdpMLineIndex }).catch(() => undefined);
  const remoteDescriptionApplied = () => {
    remoteApplied = true;
    for (const s of heldLocal.splice(0)) sendSignal(s);
    for (const s of heldRemote.splice(0)) if (s.kind === 'candidate') void applyCandidate(s);
  };

  if (role === 'offerer') {
    opened(pc.createDataChannel('flint', { ordered: true }));
    void (async () => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      sendSignal({ kind: 'offer', sdp: withoutCandidates(offer.sdp ?? '') });
    })().catch((err: Error) => fail(`cannot make an offer: ${err.message}`));
  } else {
    pc.addEventListener('datachannel', (event) => opened(event.channel));
  }

  return {
    channel,
    signal(s) {
      if (settled && s.kind !== 'candidate') return;
      if (s.kind === 'candidate') {
        if (remoteApplied) void applyCandidate(s);
        else heldRemote.push(s);
        return;
      }
      if (s.kind === 'answer' && role === 'offerer') {
        pc.setRemoteDescription({ type: 'answer', sdp: s.sdp }).then(remoteDescriptionApplied, (err: Error) => fail(`cannot apply the answer: ${err.message}`));
        return;
      }
      if (s.kind === 'offer' && role === 'answerer') {
        void (async () => {
          await pc.setRemoteDescription({ type: 'offer', sdp: s.sdp });
          remoteDescriptionApplied();
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          sendSignal({ kind: 'answer', sdp: answer.sdp ?? '' });
        })().catch((err: Error) => fail(`cannot answer the offer: ${err.message}`));
      }
    },
    close() {
      if (!settled) fail('closed');
      else pc.close();
    },
  };
}
