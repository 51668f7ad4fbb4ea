import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './process';
import { redisCli } from './redis-cli';

export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** Node id of the master (replicas only). */
  masterId?: string;
  /** Slot ranges served (masters only), e.g. [[0, 5460]]. */
  slots: [number, number][];
  failed: boolean;
}

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a silent master takes to be failed over (ms). */
  nodeTimeoutMs?: number;
  /** Require AUTH with this password on every node (as managed clusters do). */
  password?: string;
}

/**
 * A private Redis Cluster on loopback (Debian's `redis-server` in cluster mode, default 3 masters
 * and 3 replicas), for tests that need one or break one: each node has its own free client and
 * bus port and a throwaway directory. `stop()` kills every node and removes the directory.
 */
export class LocalRedisCluster {
  private readonly children = new Map<number, ChildProcess>();

  private constructor(
    readonly ports: number[],
    private readonly dir: string,
    private readonly password?: string,
  ) {}

  /** `host:port,host:port,…` of every node: the value of `REDIS_CLUSTER_NODES`. */
  get seeds(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  static async start(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicasPerMaster ?? 1;
    const count = masters * (1 + replicas);
    const ports = await distinctFreePorts(count * 2);
    const dir = mkdtempSync(join(tmpdir(), 'sw-redis-cluster-'));
    const cluster = new LocalRedisCluster(ports.slice(0, count), dir, options.password);
    try {
      await Promise.all(
        cluster.ports.map((port, i) =>
          cluster.launch(port, ports[count + i], options.nodeTimeoutMs ?? 1000),
        ),
      );
      await redisCli([
        ...cluster.auth(),
        '--cluster',
        'create',
        ...cluster.ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
      await cluster.waitHealthy(masters, count);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /** Runs one command on one node through redis-cli and returns its output. */
  cli(port: number, ...args: string[]): Promise<string> {
    return redisCli(['-p', String(port), ...this.auth(), ...args]);
  }

  private auth(): string[] {
    return this.password ? ['-a', this.password, '--no-auth-warning'] : [];
  }

  /** The cluster as one live node sees it (`CLUSTER NODES`). */
  async nodes(): Promise<ClusterNodeInfo[]> {
    for (const port of this.livePorts()) {
      try {
        return parseClusterNodes(await this.cli(port, 'cluster', 'nodes'));
      } catch {
        // that node is going away: ask the next one
      }
    }
    throw new Error('no live node of the cluster answers');
  }

  /** The live master serving `slot`. */
  async masterOf(slot: number): Promise<ClusterNodeInfo> {
    const nodes = await this.nodes();
    const owner = nodes.find(
      (n) => n.role === 'master' && !n.failed && n.slots.some(([a, b]) => slot >= a && slot <= b),
    );
    if (!owner) throw new Error(`no live master serves slot ${slot}`);
    return owner;
  }

  /** Hash slot of a key or channel, as the cluster computes it. */
  async keySlot(key: string): Promise<number> {
    return Number(await this.cli(this.livePorts()[0], 'cluster', 'keyslot', key));
  }

  /**
   * Moves one slot (with any keys in it) to another master, the way `redis-cli --cluster
   * reshard` does: IMPORTING on the target, MIGRATING on the source, MIGRATE the keys, then
   * SETSLOT NODE on both. Returns the target master.
   */
  async migrateSlot(slot: number): Promise<ClusterNodeInfo> {
    const source = await this.masterOf(slot);
    const target = (await this.nodes()).find(
      (n) => n.role === 'master' && !n.failed && n.id !== source.id,
    )!;
    await this.cli(target.port, 'cluster', 'setslot', String(slot), 'importing', source.id);
    await this.cli(source.port, 'cluster', 'setslot', String(slot), 'migrating', target.id);
    for (;;) {
      const keys = (await this.cli(source.port, 'cluster', 'getkeysinslot', String(slot), '100'))
        .split('\n')
        .filter(Boolean);
      if (keys.length === 0) break;
      await this.cli(
        source.port,
        'migrate',
        '127.0.0.1',
        String(target.port),
        '',
        '0',
        '5000',
        'keys',
        ...keys,
      );
    }
    await this.cli(target.port, 'cluster', 'setslot', String(slot), 'node', target.id);
    await this.cli(source.port, 'cluster', 'setslot', String(slot), 'node', target.id);
    await waitFor(`slot ${slot} served by ${target.port}`, async () => {
      return (await this.masterOf(slot)).id === target.id;
    });
    return target;
  }

  /**
   * SIGKILLs the master serving `slot` and waits until one of its replicas was promoted and the
   * cluster is whole again. Returns the killed master and the promoted replica.
   */
  async killMasterOf(
    slot: number,
  ): Promise<{ killed: ClusterNodeInfo; promoted: ClusterNodeInfo }> {
    const killed = await this.masterOf(slot);
    await this.kill(killed.port);
    let promoted: ClusterNodeInfo | undefined;
    await waitFor(
      `a replica of ${killed.port} to take over slot ${slot}`,
      async () => {
        promoted = await this.masterOf(slot);
        return promoted.id !== killed.id && (await this.state()) === 'ok';
      },
      30_000,
      100,
    );
    return { killed, promoted: promoted! };
  }

  /** `cluster_state` as a live node reports it: `ok` or `fail`. */
  async state(): Promise<string> {
    const info = await this.cli(this.livePorts()[0], 'cluster', 'info');
    return /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
  }

  async kill(port: number): Promise<void> {
    const child = this.children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.children.keys()].map((port) => this.kill(port)));
    rmSync(this.dir, { recursive: true, force: true });
  }

  private livePorts(): number[] {
    return this.ports.filter((port) => {
      const child = this.children.get(port);
      return child && child.exitCode === null && child.signalCode === null;
    });
  }

  private async launch(port: number, busPort: number, nodeTimeoutMs: number): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--cluster-port',
        String(busPort),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        // replicas sync at once (the default waits 5 s for more replicas to share one transfer)
        '--repl-diskless-sync-delay',
        '0',
        ...(this.password ? ['--requirepass', this.password, '--masterauth', this.password] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.children.set(port, child);
    // a test process that dies without stop() must not leave its nodes behind
    const orphan = () => child.kill('SIGKILL');
    process.once('exit', orphan);
    child.once('exit', () => process.off('exit', orphan));
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      `redis-server ${port} ready`,
      () => /Ready to accept connections/.test(output),
      10_000,
    );
  }

  private async waitHealthy(masters: number, count: number): Promise<void> {
    await waitFor(
      'the cluster to be whole',
      async () => {
        for (const port of this.ports) {
          if (!/cluster_state:ok/.test(await this.cli(port, 'cluster', 'info'))) return false;
        }
        const nodes = await this.nodes();
        if (nodes.length !== count) return false;
        if (nodes.filter((n) => n.role === 'master' && n.slots.length > 0).length !== masters) {
          return false;
        }
        // a replica takes over only once it has synced with its master
        for (const replica of nodes.filter((n) => n.role === 'replica')) {
          const info = await this.cli(replica.port, 'info', 'replication');
          if (!/master_link_status:up/.test(info)) return false;
        }
        return true;
      },
      30_000,
      100,
    );
  }
}

export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.trim().split(' ');
      const flagSet = new Set(flags.split(','));
      return {
        id,
        port: Number(/:(\d+)/.exec(address)![1]),
        role: flagSet.has('master') ? 'master' : 'replica',
        masterId: master === '-' ? undefined : master,
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [a, b] = s.split('-').map(Number);
            return [a, b ?? a] as [number, number];
          }),
        failed: flagSet.has('fail') || flagSet.has('fail?'),
      };
    });
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
