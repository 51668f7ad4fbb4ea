// What the figures were measured on.
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { adminQuery } from './services.mjs';

export async function machineInfo() {
  const { rows } = await adminQuery('show server_version');
  let redisVersion = null;
  try {
    redisVersion = /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? null;
  } catch (error) {
    console.error('redis-server --version failed:', error.message);
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: rows[0].server_version,
    redis: redisVersion,
  };
}
