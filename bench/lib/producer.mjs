// Forks a producer process and speaks its IPC protocol.
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { cpuProfArgs } from './services.mjs';

export class Producer {
  /** `script` is relative to bench/, e.g. `producers/store-producer.mjs`. */
  constructor(script, name = 'producer', env = {}) {
    this.name = name;
    this.child = fork(resolve(import.meta.dirname, '..', script), [], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx', '--no-warnings', ...cpuProfArgs()],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.stderr = '';
    this.child.stderr.on('data', (c) => (this.stderr = (this.stderr + c).slice(-4000)));
  }
  get pid() {
    return this.child.pid;
  }
  request(message, timeoutMs = 300_000) {
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no reply to ${message.cmd}`)), timeoutMs);
      const onExit = (code) => clearTimeout(timer) || reject(new Error(`${this.name} exited (${code}): ${this.stderr}`));
      this.child.once('exit', onExit);
      this.child.once('message', (reply) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        if (reply.type === 'error') reject(new Error(`${this.name}: ${reply.message}`));
        else resolvePromise(reply);
      });
      this.child.send(message);
    });
  }
  async close() {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
