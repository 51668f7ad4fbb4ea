import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * Runs `redis-cli <args>` and returns its output, all of it: it waits for 'close' (the process
 * exited and its stdout and stderr are drained), since 'exit' may come before the last chunk.
 * Throws on a non-zero exit and on an error reply, which redis-cli prints with exit code 0.
 */
export async function redisCli(args: string[]): Promise<string> {
  const cli = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  cli.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  cli.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code, signal] = (await once(cli, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0 || /^(ERR|\(error\))/m.test(output)) {
    throw new Error(`redis-cli ${args.join(' ')} failed (${code ?? signal}): ${output.trim()}`);
  }
  return output.trim();
}
