import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, waitFor, WaitAborted } from './process';

/** The nginx config the project ships (docker-compose's load balancer). */
export const SHIPPED_NGINX_CONF = resolve(__dirname, '..', 'deploy/nginx/nginx.conf');

const RESOLVER = /^[ \t]*resolver[ \t][^;\n]*;[ \t]*(#[^\n]*)?$/gm;
const API_SERVER = /^([ \t]*)server[ \t]+api:3000((?:[ \t]+[^;\s]+)*)[ \t]*;[ \t]*$/gm;
const LISTEN = /^([ \t]*)listen[ \t]+8080[ \t]*;[ \t]*$/gm;
const HTTP_BLOCK = /^([ \t]*)http[ \t]*\{[ \t]*$/gm;
const TEMP_PATHS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];

function exactlyOne(conf: string, pattern: RegExp, what: string): RegExpMatchArray {
  const matches = [...conf.matchAll(pattern)];
  if (matches.length !== 1) {
    throw new Error(
      `deploy/nginx/nginx.conf: expected exactly one ${what}, found ${matches.length}; ` +
        'update test/nginx.ts if the file changed on purpose',
    );
  }
  return matches[0];
}

export interface LoopbackRender {
  /** `host:port` of each API node, in order. */
  upstreams: string[];
  /** Port nginx listens on (127.0.0.1). */
  port: number;
  /** Directory for nginx's temp files (the run's prefix). */
  prefix: string;
}

/**
 * The shipped config with only its Docker-specific lines changed for loopback: the `resolver` line
 * goes, `server api:3000 …` becomes one `server` line per upstream with every parameter except
 * `resolve` (which needs a resolver) kept, `listen 8080` becomes the given loopback port, and the
 * temp paths go inside `prefix`. Every other directive stays as shipped. Throws when a line it
 * replaces is not there exactly once.
 */
export function renderNginxForLoopback(source: string, options: LoopbackRender): string {
  exactlyOne(source, RESOLVER, '`resolver …;` line');
  const server = exactlyOne(source, API_SERVER, '`server api:3000 …;` line');
  exactlyOne(source, LISTEN, '`listen 8080;` line');
  exactlyOne(source, HTTP_BLOCK, '`http {` line');
  const params = server[2].trim().split(/\s+/).filter(Boolean);
  if (!params.includes('resolve')) {
    throw new Error('deploy/nginx/nginx.conf: the api server line has no `resolve` parameter');
  }
  const kept = params.filter((p) => p !== 'resolve');
  const servers = options.upstreams
    .map((address) => `${server[1]}server ${[address, ...kept].join(' ')};`)
    .join('\n');
  const temps = TEMP_PATHS.map(
    (name) => `  ${name}_temp_path ${join(options.prefix, `${name}_temp`)};`,
  ).join('\n');
  return source
    .replace(RESOLVER, '')
    .replace(API_SERVER, servers)
    .replace(LISTEN, (_m, indent: string) => `${indent}listen 127.0.0.1:${options.port};`)
    .replace(HTTP_BLOCK, (line) => `${line}\n${temps}`);
}

/** The nginx binary on PATH or in /usr/sbin; throws (never skips) when it is missing. */
export function nginxBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin']) {
    const candidate = join(dir, 'nginx');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error('nginx is not installed (apt-get install nginx; .ci/run installs it)');
}

/**
 * Debian's nginx running the shipped config rendered for loopback upstreams, in a private prefix
 * (pid, temp files, logs) on a free port, in the foreground.
 */
export class NginxProcess {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstreams: string[], readyPath = '/healthz'): Promise<NginxProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'sw-nginx-'));
    // nginx started as root runs its workers as `nobody`: they must reach the temp directories.
    chmodSync(dir, 0o755);
    const nginx = new NginxProcess(dir, await freePort());
    const conf = renderNginxForLoopback(readFileSync(SHIPPED_NGINX_CONF, 'utf8'), {
      upstreams,
      port: nginx.port,
      prefix: dir,
    });
    writeFileSync(join(dir, 'nginx.conf'), conf);
    try {
      const args = nginx.args();
      const checkLog = join(dir, 'check.log');
      const fd = openSync(checkLog, 'w');
      const check = spawnSync(nginxBinary(), [...args, '-t'], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      if (check.status !== 0) {
        throw new Error(`nginx -t failed:\n${readFileSync(checkLog, 'utf8')}\n${conf}`);
      }
      await nginx.launch(args, readyPath);
      return nginx;
    } catch (error) {
      await nginx.stop();
      throw error;
    }
  }

  private args(): string[] {
    const g = `daemon off; pid ${join(this.dir, 'nginx.pid')};`;
    return [
      '-p',
      this.dir,
      '-c',
      join(this.dir, 'nginx.conf'),
      '-e',
      join(this.dir, 'error.log'),
      '-g',
      g,
    ];
  }

  private async launch(args: string[], readyPath: string): Promise<void> {
    // Files, not pipes: nginx opens /dev/stdout for its access log, which fails on a socket.
    const out = openSync(join(this.dir, 'output.log'), 'a');
    const child = spawn(nginxBinary(), args, { stdio: ['ignore', out, out] });
    closeSync(out);
    this.child = child;
    await waitFor(`nginx on ${this.url}`, async () => {
      if (child.exitCode !== null) throw new WaitAborted('nginx exited');
      return (await fetch(`${this.url}${readyPath}`)).ok;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${this.logs()}`);
    });
  }

  /** The end of nginx's error log and access log (for failing tests). */
  logs(): string {
    const tail = (name: string) => {
      const path = join(this.dir, name);
      return existsSync(path) ? readFileSync(path, 'utf8').slice(-6000) : '';
    };
    return `--- nginx error.log ---\n${tail('error.log')}\n--- nginx output ---\n${tail('output.log')}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
