import type { SessionHead } from './states';
import type { StoredEvent } from './events';

/** Control frames of the stream (PROTOCOL §4); not stored in the log. */
/**
 * Why a `gap` skipped `fromSeq..toSeq`: the cursor was more than MAX_REPLAY_GAP behind
 * (`replay_gap_exceeded`), past the head (`cursor_ahead`, from seq 1), or retention removed the
 * range from the log (`history_expired`, v1.1).
 */
export type GapReason = 'replay_gap_exceeded' | 'cursor_ahead' | 'history_expired';

export interface GapFrame extends SessionHead {
  sessionId: string;
  reason: GapReason;
  fromSeq: number;
  toSeq: number;
  historyUrl: string;
}
export interface LiveFrame {
  sessionId: string;
  headSeq: number;
}
export type HeartbeatFrame = SessionHead;
export interface EndFrame {
  sessionId: string;
  headSeq: number;
}

export type ControlFrame =
  | { event: 'gap'; data: GapFrame }
  | { event: 'live'; data: LiveFrame }
  | { event: 'heartbeat'; data: HeartbeatFrame }
  | { event: 'end'; data: EndFrame };

export const CONTROL_EVENTS = ['gap', 'live', 'heartbeat', 'end'] as const;

/** One SSE frame for a stored event: `id` is its seq, `event` its type, `data` the JSON event. */
export function encodeEventFrame(event: StoredEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A control frame; `gap` carries `id: toSeq` so a reconnect resumes after the skipped range. */
export function encodeControlFrame(frame: ControlFrame): string {
  const id = frame.event === 'gap' ? `id: ${frame.data.toSeq}\n` : '';
  return `${id}event: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`;
}

export function encodeRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`;
}

/** Path of the history page that fills a gap. */
export function historyUrl(sessionId: string, after: number, limit = 1000): string {
  return `/v1/sessions/${sessionId}/events?after=${after}&limit=${limit}`;
}
