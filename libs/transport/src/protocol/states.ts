/** Session lifecycle states (PROTOCOL §1). */
export const SESSION_STATES = [
  'CREATED',
  'STARTING',
  'ACTIVE',
  'SUSPENDED',
  'DETACHED',
  'ENDED',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const ACTIVITIES = ['idle', 'running'] as const;
export type Activity = (typeof ACTIVITIES)[number];

/**
 * A session's position and lifecycle at one moment (one row of the sessions table): what a
 * heartbeat carries, what a gap and a history page report, what the stream engine reads.
 */
export interface SessionHead {
  headSeq: number;
  state: SessionState;
  activity: Activity;
}

/** The only legal transitions. Anything else is refused, never warned about. */
export const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  CREATED: ['STARTING', 'ENDED'],
  STARTING: ['ACTIVE', 'DETACHED', 'ENDED'],
  ACTIVE: ['SUSPENDED', 'DETACHED', 'ENDED'],
  SUSPENDED: ['STARTING', 'ENDED'],
  DETACHED: ['STARTING', 'ENDED'],
  ENDED: [],
};

export function isLegalTransition(from: SessionState | null, to: SessionState): boolean {
  if (from === null) return to === 'CREATED';
  return TRANSITIONS[from].includes(to);
}

export function isSessionState(value: unknown): value is SessionState {
  return typeof value === 'string' && (SESSION_STATES as readonly string[]).includes(value);
}

/**
 * States in which a session's log can still grow on its own, so a stream behind head must be
 * caught up by periodic sync. SUSPENDED, DETACHED and ENDED sessions are idle until something
 * external (a new message, a reclaim) wakes them, which the next sync round notices.
 */
export function shouldSync(state: SessionState): boolean {
  return state === 'CREATED' || state === 'STARTING' || state === 'ACTIVE';
}
