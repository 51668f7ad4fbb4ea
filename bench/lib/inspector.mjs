// Talks to a child's V8 inspector (started with --inspect=127.0.0.1:PORT): forces a full GC and
// reads the process's memory the same way for every server measured, so a figure is what the
// server retains rather than garbage it has not collected yet.
import { freePort } from './services.mjs';

/** A free port for `--inspect=127.0.0.1:<port>`. */
export const inspectPort = freePort;

export class Inspector {
  static async connect(port, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
        const socket = new WebSocket(target.webSocketDebuggerUrl);
        await new Promise((resolve, reject) => {
          socket.addEventListener('open', resolve, { once: true });
          socket.addEventListener('error', reject, { once: true });
        });
        return new Inspector(socket);
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`inspector on ${port}: ${error.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  constructor(socket) {
    this.socket = socket;
    this.nextId = 1;
    this.pending = new Map();
    socket.addEventListener('message', (message) => {
      const reply = JSON.parse(message.data);
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.error) waiter.reject(new Error(reply.error.message));
      else waiter.resolve(reply.result);
    });
  }

  call(method, params = {}) {
    const id = this.nextId++;
    this.socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Two full collections (the second frees what finalizers of the first released). */
  async collectGarbage() {
    await this.call('HeapProfiler.collectGarbage');
    await this.call('HeapProfiler.collectGarbage');
  }

  /** `process.memoryUsage()` of the inspected process. */
  async memoryUsage() {
    const { result } = await this.call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    return JSON.parse(result.value);
  }

  close() {
    this.socket.close();
  }
}
