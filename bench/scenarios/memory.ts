import { countRows, fillQueue, openQueue, waitForDrain } from '../jobs.ts';
import { multipartPayload, postLargeUpload, REPLY_PATH } from '../payloads.ts';
import { memoryOf, sleep, type Program } from '../processes.ts';
import { inRoundOrder, ratioRow, type Scenario } from '../rounds.ts';
import { deleteKeys } from '@ticketflow/testing/redis';
import { BASELINES, baselineProgram } from './baselines.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const UPLOADS = 10;
const UPLOAD_BYTES = 10 * MiB;

/**
 * 10 concurrent 10 MiB uploads into a fresh ingress: growth of its peak resident set (VmHWM),
 * read after a few small uploads have loaded every code path. Multer's memory storage (m) on
 * the same uploads shows what holding them would cost.
 */
export const uploadMemoryScenario: Scenario = {
  id: 'upload-memory',
  async run(ctx) {
    const { stack } = ctx;
    const sides: Array<{ key: 'ticketflow' | 'm'; program: Program }> = [
      { key: 'ticketflow', program: { kind: 'ticketflow', mode: 'ingress' } },
      { key: 'm', program: baselineProgram('m') },
    ];
    const growth = new Map<string, number[]>(sides.map((s) => [s.key, []]));
    for (let round = 0; round < ctx.rounds; round++) {
      for (const side of inRoundOrder(round, sides)) {
        // A fresh process each round: VmHWM is a peak since start and never comes down.
        const prefix = stack.prefix(`upload-${side.key}`);
        const child = await ctx.start(`upload-${side.key}`, side.program, prefix);
        const url = child.url + REPLY_PATH;
        const small = multipartPayload(stack.seed.ticketId, 100 * KiB);
        for (let i = 0; i < 5; i++) {
          const res = await fetch(url, {
            method: 'POST',
            headers: { authorization: `Bearer ${stack.token}`, 'content-type': small.contentType },
            body: small.body,
          });
          if (!res.ok) throw new Error(`warm-up upload: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
        }
        const before = memoryOf(child.pid).hwm;
        const answers = await Promise.all(
          Array.from({ length: UPLOADS }, () =>
            postLargeUpload(url, stack.token, stack.seed.ticketId, UPLOAD_BYTES),
          ),
        );
        const bad = answers.find((a) => a.status !== 200);
        if (bad) throw new Error(`10 MiB upload to ${side.key}: ${bad.status} ${bad.body}`);
        growth.get(side.key)!.push((memoryOf(child.pid).hwm - before) / MiB);
        await child.stop();
        await deleteKeys(stack.redis, `${prefix}:*`);
      }
    }
    return [
      ratioRow(
        {
          scenario: 'upload-memory',
          metric: `ingress RSS growth, ${UPLOADS} × 10 MiB uploads at once`,
          unit: 'MiB',
          baselineName: BASELINES.m.name,
          target: { on: 'ticketflow', op: '<=', value: 64, text: '≤ 64 MiB' },
        },
        growth.get('ticketflow')!,
        growth.get('m')!,
      ),
    ];
  },
};

/**
 * What one queued reply job holds in Redis when the reply carries a 10 MiB file, measured with
 * MEMORY USAGE on the job's hash; the same reply without the file is the reference.
 */
export const redisJobBytesScenario: Scenario = {
  id: 'redis-job-bytes',
  async run(ctx) {
    const { stack } = ctx;
    const prefix = stack.prefix('job-bytes');
    // No worker: the jobs stay queued, as they are while a backlog waits.
    const ingress = await ctx.start('job-bytes', { kind: 'ticketflow', mode: 'ingress' }, prefix);
    const url = ingress.url + REPLY_PATH;
    const jobBytes = async (answer: { status: number; body: string }) => {
      if (answer.status !== 200) throw new Error(`reply: ${answer.status} ${answer.body}`);
      const { replyid } = JSON.parse(answer.body) as { replyid: string };
      // SAMPLES 0: every field of the hash counted, not an estimate.
      const key = `${prefix}:replies:reply-${replyid}`;
      const bytes = (await stack.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number;
      if (!bytes) throw new Error(`no job hash at ${key}`);
      return bytes;
    };
    const plain = multipartPayload(stack.seed.ticketId);
    const withFile: number[] = [];
    const without: number[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      withFile.push(
        await jobBytes(await postLargeUpload(url, stack.token, stack.seed.ticketId, UPLOAD_BYTES)),
      );
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.token}`, 'content-type': plain.contentType },
        body: plain.body,
      });
      without.push(await jobBytes({ status: res.status, body: await res.text() }));
    }
    return [
      ratioRow(
        {
          scenario: 'redis-job-bytes',
          metric: 'Redis bytes per queued reply job, 10 MiB attachment',
          unit: 'B',
          baselineName: 'the same reply without the file',
          target: { on: 'ticketflow', op: '<=', value: 2048, text: '≤ 2 KiB' },
        },
        withFile,
        without,
      ),
    ];
  },
};

const COMPLETED = 100_000;

async function usedMemory(ctx: Parameters<Scenario['run']>[0]): Promise<number> {
  const info = await ctx.stack.redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/**
 * Redis used_memory after 100 000 replies went through a worker (filled with addBulk in batches
 * of 1000 while it runs), against what it was before: what completed jobs leave behind. The
 * no-op worker (c) on the same jobs shows BullMQ's own retention under the same job options.
 * One round only: each side takes a minute, and the figure is a bound, not a speed.
 */
export const redisMemoryScenario: Scenario = {
  id: 'redis-memory',
  fixedRounds: 1,
  async run(ctx) {
    const { stack } = ctx;
    const sides: Array<{ key: 'ticketflow' | 'c'; program: Program; table?: string }> = [
      {
        key: 'ticketflow',
        program: { kind: 'ticketflow', mode: 'worker' },
        table: 'ticket_replies',
      },
      { key: 'c', program: baselineProgram('c') },
    ];
    const delta = new Map<string, number>();
    for (const side of sides) {
      const prefix = stack.prefix(`memory-${side.key}`);
      const before = await usedMemory(ctx);
      const child = await ctx.start(`memory-${side.key}`, side.program, prefix);
      const queue = openQueue(stack.redis, prefix);
      const rows = side.table ? await countRows(stack, side.table) : 0;
      await fillQueue(queue, stack, COMPLETED, { noemail: true });
      await waitForDrain(queue, 600_000);
      if (side.table) {
        const written = (await countRows(stack, side.table)) - rows;
        if (written !== COMPLETED) throw new Error(`${COMPLETED} jobs but ${written} replies`);
      }
      // Lazy frees (UNLINK, expiries) finish in the background; let them land first.
      await sleep(2000);
      delta.set(side.key, ((await usedMemory(ctx)) - before) / (1024 * 1024));
      await queue.close();
      await child.stop();
      await deleteKeys(stack.redis, `${prefix}:*`);
    }
    return [
      ratioRow(
        {
          scenario: 'redis-memory',
          metric: `Redis used_memory growth after ${COMPLETED / 1000}k completed replies`,
          unit: 'MiB',
          baselineName: BASELINES.c.name,
          target: { on: 'ticketflow', op: '<=', value: 50, text: '≤ 50 MiB' },
          note: 'one round; used_memory is server-wide, so other Redis clients show up in it',
        },
        [delta.get('ticketflow')!],
        [delta.get('c')!],
      ),
    ];
  },
};
