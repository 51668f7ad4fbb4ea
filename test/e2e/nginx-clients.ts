import { EventSource as NodeEventSource } from 'eventsource';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SessionStream } from '../../libs/transport/src/client';
import type { StoredEvent } from '../../libs/transport/src/protocol';
import {
  FRAME_NAMES,
  gaveUp,
  openStandardClient,
  storedEvents,
  type StandardClientState,
} from './standard-client';

export type ClientKind = 'eventsource' | 'chromium' | 'sdk';

/** What a client saw, whatever its kind, in the shape `expectMatchesLog` checks. */
export interface ClientView {
  kind: ClientKind;
  sessionId: string;
  events: StoredEvent[];
  gaps: { fromSeq: number; toSeq: number }[];
  violations: string[];
  /** The `live` frame arrived at least once. */
  live: boolean;
  /** `end` arrived (the client then closed itself). */
  ended: boolean;
  /** Stopped for good without `end`: the failure this suite exists to catch. */
  gaveUp: boolean;
  /** `onerror` calls (standard clients) or `error` events (SDK), with detail. */
  errors: string[];
  /** Frames that reached a standard client's `onmessage` (unnamed or unknown). */
  unnamed: number;
}

const SDK_BACKOFF = { baseMs: 200, maxMs: 1500, minMs: 50 };
/** Standard EventSources per browser context: under Chromium's 6 connections per host. */
const PER_CONTEXT = 4;

const PAGE_PATH = '/standard-client.html';
const PAGE = '<!doctype html><meta charset="utf-8"><title>standard EventSource</title>';

type TestWindow = {
  clients: { snapshot(): StandardClientState; close(): void }[];
  openStandardClient: typeof openStandardClient;
};

function fromStandard(kind: ClientKind, state: StandardClientState): ClientView {
  return {
    kind,
    ...storedEvents(state),
    live: state.frames.some((f) => f.event === 'live'),
    ended: state.ended,
    gaveUp: gaveUp(state),
    errors: state.errors.map((e) => `readyState ${e.readyState}: ${e.detail}`),
    unnamed: state.unnamed,
  };
}

/** One SDK SessionStream, recorded. */
function openSdkClient(
  origin: string,
  sessionId: string,
): { view: () => ClientView; close: () => void } {
  const stream = new SessionStream({
    baseUrl: origin,
    sessionId,
    heartbeatMs: 1000,
    backoff: SDK_BACKOFF,
  });
  const view: ClientView = {
    kind: 'sdk',
    sessionId,
    events: [],
    gaps: [],
    violations: [],
    live: false,
    ended: false,
    gaveUp: false,
    errors: [],
    unnamed: 0,
  };
  stream.on('event', (e) => view.events.push(e));
  stream.on('gap', (g) => view.gaps.push(g));
  stream.on('live', () => (view.live = true));
  stream.on('error', (e) => view.errors.push(e.message));
  stream.on('close', (c) => {
    if (c.reason === 'ended') view.ended = true;
    else view.gaveUp = true;
  });
  stream.start();
  const snapshot = () => {
    const dropped = stream.duplicatesDropped;
    const violations = dropped > 0 ? [`the server sent ${dropped} duplicate(s)`] : [];
    return { ...view, events: [...view.events], violations };
  };
  return { view: snapshot, close: () => stream.close() };
}

export interface ClientMix {
  eventsource?: number;
  chromium?: number;
  sdk?: number;
}

/**
 * Clients of one scenario, all through one origin (nginx): standard EventSources in Node (the
 * `eventsource` package) and in Chromium (pages served at that origin, so the streams are
 * same-origin), and SDK SessionStreams. Sessions are assigned round-robin per kind.
 */
export class ClientSet {
  private readonly node: ReturnType<typeof openStandardClient>[] = [];
  private readonly sdk: ReturnType<typeof openSdkClient>[] = [];
  private readonly pages: Page[] = [];
  private readonly contexts: BrowserContext[] = [];

  constructor(
    private readonly origin: string,
    private readonly browser: Browser,
  ) {}

  async open(sessionIds: string[], mix: ClientMix): Promise<this> {
    const url = (id: string) => `${this.origin}/v1/sessions/${id}/stream`;
    for (let i = 0; i < (mix.eventsource ?? 0); i++) {
      const id = sessionIds[i % sessionIds.length];
      this.node.push(openStandardClient(NodeEventSource, url(id), id, FRAME_NAMES));
    }
    for (let i = 0; i < (mix.sdk ?? 0); i++) {
      this.sdk.push(openSdkClient(this.origin, sessionIds[i % sessionIds.length]));
    }
    const chromium = mix.chromium ?? 0;
    for (let start = 0; start < chromium; start += PER_CONTEXT) {
      const page = await this.newPage();
      for (let i = start; i < Math.min(chromium, start + PER_CONTEXT); i++) {
        const id = sessionIds[i % sessionIds.length];
        await page.evaluate(
          ([path, sessionId, names]) => {
            const w = window as unknown as TestWindow;
            w.clients.push(w.openStandardClient(EventSource, path, sessionId, names));
          },
          [`/v1/sessions/${id}/stream`, id, FRAME_NAMES] as const,
        );
      }
    }
    return this;
  }

  private async newPage(): Promise<Page> {
    const context = await this.browser.newContext();
    this.contexts.push(context);
    await context.route(`${this.origin}${PAGE_PATH}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: PAGE }),
    );
    const page = await context.newPage();
    await page.goto(`${this.origin}${PAGE_PATH}`);
    await page.addScriptTag({
      content: `window.clients = []; window.openStandardClient = ${openStandardClient.toString()};`,
    });
    this.pages.push(page);
    return page;
  }

  async views(): Promise<ClientView[]> {
    const views = [
      ...this.node.map((c) => fromStandard('eventsource', c.snapshot())),
      ...this.sdk.map((c) => c.view()),
    ];
    for (const page of this.pages) {
      const states = await page.evaluate(() =>
        (window as unknown as TestWindow).clients.map((c) => c.snapshot()),
      );
      views.push(...states.map((s) => fromStandard('chromium', s)));
    }
    return views;
  }

  async close(): Promise<void> {
    for (const c of [...this.node, ...this.sdk]) c.close();
    await Promise.all(this.contexts.map((c) => c.close()));
  }
}

/** A one-line summary of a client for assertion messages. */
export function describeClient(view: ClientView): string {
  const last = view.events.at(-1)?.seq ?? 0;
  return `${view.kind} ${view.sessionId.slice(-6)} last=${last} errors=[${view.errors.slice(-3).join('; ')}]`;
}
