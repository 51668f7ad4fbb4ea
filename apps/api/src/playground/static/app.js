// The playground: one session at a time through the SDK (SessionStream + Outbox), no framework.
// The open session's id is the URL's hash, so a reload opens it again and replays its log.
import { LocalStorageOutboxStorage, Outbox, SessionStream } from '/sdk/index.mjs';

const KEY = 'sessionwire.apiKey';
const DEMO_COMMANDS = ['hello', '/stream 40 100', '/tool search', '/sleep 3000', '/fail', '/interrupt-fails 2000'];
const MAX_FRAMES = 500;
const $ = (id) => document.getElementById(id);
let config;
let current; // { id, stream, outbox, turns: Map<turnId, element> }

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function headers() {
  const key = sessionStorage.getItem(KEY);
  return { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) };
}

/** A REST call; a 401 asks for an API key, any other refusal is shown with the server's problem. */
async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: headers() });
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    $('auth').hidden = false;
    throw new Error(`401: ${body?.detail ?? 'an API key is needed'}`);
  }
  if (!response.ok) throw new Error(`${response.status} ${body?.code}: ${body?.detail}`);
  return body;
}

function showProblem(error) {
  $('problem').hidden = !error;
  $('problem').textContent = error ? String(error.message ?? error) : '';
}

function setConnection(text, kind) {
  $('connection').textContent = text;
  $('connection').className = `badge ${kind ?? ''}`;
}

async function listSessions() {
  const { sessions } = await api('/v1/sessions?limit=30');
  $('session-list').replaceChildren(
    ...sessions.map((s) => {
      const item = el('li', s.id === current?.id ? 'current' : '', `${s.id.slice(-12)} ${s.agent} ${s.state}`);
      item.title = s.id;
      item.dataset.id = s.id;
      item.onclick = () => openSession(s.id);
      return item;
    }),
  );
}

function logFrame(label, text, kind = '') {
  const item = el('li', kind);
  item.append(el('span', 'seq', String(label)), ` ${text}`);
  if (typeof label === 'number') item.dataset.seq = String(label);
  const log = $('frame-log');
  log.append(item);
  while (log.children.length > MAX_FRAMES) log.firstChild.remove();
  log.parentElement.scrollTop = log.parentElement.scrollHeight;
}

function say(className, text) {
  const node = $('transcript').appendChild(el('div', `msg ${className}`, text));
  node.scrollIntoView({ block: 'end' });
  return node;
}

/** The agent's bubble of a turn, created on its first event. */
function turn(turnId) {
  let node = current.turns.get(turnId);
  if (!node) {
    node = say('agent', '');
    node.dataset.turn = turnId;
    node.append(el('span', 'text'));
    current.turns.set(turnId, node);
  }
  return node;
}

/** Draws one stored event into the transcript. */
function render(event) {
  const d = event.data;
  switch (event.type) {
    case 'message.user': return void say('user', d.content);
    case 'turn.started': return void turn(d.turnId);
    case 'message.delta': return void (turn(d.turnId).querySelector('.text').textContent += d.text);
    case 'message.completed': return void (turn(d.turnId).querySelector('.text').textContent = d.text);
    case 'tool.call': return void turn(d.turnId).append(el('div', 'tool', `→ ${d.name}(${JSON.stringify(d.input)})`));
    case 'tool.result': return void turn(d.turnId).append(el('div', 'tool', `← ${JSON.stringify(d.output)}${d.isError ? ' (error)' : ''}`));
    case 'agent.error': return void say('error', `${d.code}: ${d.message}`);
    case 'interrupt.requested': return void say('system', 'interrupt requested');
    case 'turn.completed': {
      const stop = el('div', 'stop', d.stopReason + (d.error ? ` (${d.error.code})` : ''));
      stop.dataset.stopReason = d.stopReason;
      return void turn(d.turnId).append(stop);
    }
    case 'session.state': return void say('system', `${d.from ?? '∅'} → ${d.to} (${d.reason})`);
  }
}

function summary(event) {
  const d = event.data;
  if (event.type === 'message.delta') return `${event.type} ${JSON.stringify(d.text)}`;
  if (event.type === 'session.state') return `${event.type} ${d.to}`;
  return event.type;
}

function renderOutbox() {
  const pending = current.outbox.messages;
  $('outbox').replaceChildren(
    ...pending.map((m) => el('li', '', `outbox: ${m.state} “${m.content}”${m.error ? ` (${m.error.message})` : ''}`)),
  );
}

function enableComposer(on) {
  for (const id of ['message', 'send', 'interrupt', 'end']) $(id).disabled = !on;
}

async function openSession(id) {
  current?.stream.close();
  current?.outbox.close();
  history.replaceState(null, '', `#${id}`);
  $('transcript').replaceChildren();
  $('frame-log').replaceChildren();
  showProblem(null);
  const session = await api(`/v1/sessions/${id}`);
  $('chat-title').textContent = `${session.agent} · ${id}`;
  $('commands').replaceChildren(
    ...(session.agent === 'demo' ? DEMO_COMMANDS : []).map((text) => {
      const button = el('button', '', text);
      button.type = 'button';
      button.onclick = () => send(text);
      return button;
    }),
  );
  const token = sessionStorage.getItem(KEY) ?? undefined;
  const options = { baseUrl: location.origin, sessionId: id, token, heartbeatMs: config.heartbeatMs };
  const stream = new SessionStream(options);
  const outbox = new Outbox({ ...options, storage: new LocalStorageOutboxStorage() });
  current = { id, stream, outbox, turns: new Map() };
  outbox.attach(stream);

  // Rendering runs in seq order: events that arrive while a gap is backfilled wait for it.
  let queue = Promise.resolve();
  const inOrder = (work) => (queue = queue.then(work).catch(showProblem));
  stream.on('event', (e) => inOrder(() => {
    logFrame(e.seq, summary(e));
    $('cursor').textContent = String(stream.lastSeq);
    render(e);
    $('transcript').scrollTop = $('transcript').scrollHeight;
  }));
  stream.on('gap', (g) => inOrder(async () => {
    logFrame('gap', `${g.fromSeq}–${g.toSeq} skipped (${g.reason}), loading history`, 'control');
    for await (const page of stream.backfill(g)) page.forEach(render);
  }));
  stream.on('live', (l) => inOrder(() => logFrame('live', `caught up at ${l.headSeq}`, 'control')));
  stream.on('heartbeat', (h) => logFrame('♥', `head ${h.headSeq} ${h.state} ${h.activity}`, 'heartbeat'));
  stream.on('state', (s) => {
    $('session-state').textContent = [s.state, s.activity].filter(Boolean).join(' · ');
    listSessions().catch(showProblem);
  });
  stream.on('open', (o) => setConnection(`open from ${o.cursor}`, 'open'));
  stream.on('reconnect', (r) => setConnection(`retry in ${r.delayMs} ms: ${r.error.message}`, 'retrying'));
  stream.on('offline', (o) => setConnection(`offline ${Math.round(o.offlineMs / 1000)} s: ${o.error.message}`, 'down'));
  stream.on('close', (c) => {
    setConnection(`closed: ${c.reason}${c.problem ? ` (${c.problem.detail})` : ''}`, c.reason === 'ended' ? '' : 'down');
    enableComposer(false);
  });
  stream.on('error', (error) => logFrame('!', error.message, 'control'));
  outbox.on('change', renderOutbox);
  outbox.on('failed', (m) => showProblem(new Error(`not sent: “${m.content}”: ${m.error?.message}`)));
  outbox.on('offline', (o) => showProblem(new Error(`outbox offline: ${o.error.message}`)));
  outbox.on('online', () => showProblem(null));
  setConnection('connecting', 'retrying');
  enableComposer(session.state !== 'ENDED');
  stream.start();
  await listSessions();
}

async function send(text) {
  if (!current || !text.trim()) return;
  await current.outbox.send(text).catch(showProblem);
}

async function control(action) {
  const result = await current.outbox[action]();
  showProblem(result.ok ? null : result.error);
  if (action === 'end') await listSessions().catch(showProblem);
}

async function start() {
  config = await fetch('/playground/config.json').then((r) => r.json());
  $('agent').replaceChildren(
    ...config.agents.map((a) => {
      const option = el('option', '', a.name);
      option.title = a.description;
      return option;
    }),
  );
  $('auth').onsubmit = (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY, $('api-key').value.trim());
    $('auth').hidden = true;
    start().catch(showProblem);
  };
  $('create').onsubmit = (e) => {
    e.preventDefault();
    const body = JSON.stringify({ agent: $('agent').value });
    api('/v1/sessions', { method: 'POST', body })
      .then((session) => openSession(session.id))
      .catch(showProblem);
  };
  $('composer').onsubmit = (e) => {
    e.preventDefault();
    send($('message').value);
    $('message').value = '';
  };
  $('interrupt').onclick = () => control('interrupt');
  $('end').onclick = () => control('end');
  $('refresh').onclick = () => listSessions().catch(showProblem);
  if (config.authRequired && !sessionStorage.getItem(KEY)) {
    $('auth').hidden = false;
    return;
  }
  await listSessions();
  const id = location.hash.slice(1);
  if (id) await openSession(id);
  document.body.dataset.ready = 'true';
}

start().catch(showProblem);
