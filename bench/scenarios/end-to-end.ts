import { countRows, openQueue, settledWaiting, waitForDrain } from '../jobs.ts';
import { CPU_SPLIT_LEGEND, cpuSplitNote, perUnit, type CpuSplit } from '../cpu.ts';
import { LOAD, measureLoad, measureLoadCold } from '../load.ts';
import { REPLY_PATH, urlencodedPayload } from '../payloads.ts';
import { inRoundOrder, median, ratioRow, type Scenario } from '../rounds.ts';

const REPLIES = 'ticket_replies';

/**
 * `serve --ingress` and `serve --worker` on one queue. Each round measures, in alternating
 * order, (1) each part alone: the ingress against a paused queue, then the worker draining what
 * the ingress queued, and (2) both under the same load at once: persisted replies per second
 * from the first request until the queue has drained. Together they share two cores, so the
 * issue asks for ≥ 0.8 of the slower part alone.
 */
export const endToEndScenario: Scenario = {
  id: 'end-to-end',
  async run(ctx) {
    const { stack } = ctx;
    const prefix = stack.prefix('e2e');
    const ingress = await ctx.start('e2e-ingress', { kind: 'ticketflow', mode: 'ingress' }, prefix);
    const worker = await ctx.start('e2e-worker', { kind: 'ticketflow', mode: 'worker' }, prefix);
    const queue = openQueue(stack.redis, prefix);
    const target = {
      url: ingress.url + REPLY_PATH,
      token: stack.token,
      // noemail: this scenario measures storing replies; end-to-end-notify adds the notifications.
      payload: urlencodedPayload(stack.seed.ticketId, { noemail: true }),
    };

    const ingressAlone: number[] = [];
    const workerAlone: number[] = [];
    const together: number[] = [];
    // CPU µs per reply by who spent it: the ingress alone is bound by its own process, together
    // costs about the sum of the parts alone on the two cores everything shares.
    const cpu = { ingress: [] as CpuSplit[], worker: [] as CpuSplit[], together: [] as CpuSplit[] };
    const steps = {
      async alone(round: number) {
        await queue.pause();
        const load = await measureLoad(`end-to-end ingress alone round ${round}`, target, () =>
          stack.cpuMeter([ingress.pid]),
        );
        ingressAlone.push(load.rps);
        cpu.ingress.push(load.cpu!);
        const jobs = await settledWaiting(queue);
        const before = await countRows(stack, REPLIES);
        const meter = stack.cpuMeter([worker.pid]);
        const start = performance.now();
        await queue.resume();
        const end = await waitForDrain(queue);
        cpu.worker.push(perUnit(meter(), jobs));
        const written = (await countRows(stack, REPLIES)) - before;
        if (written !== jobs) throw new Error(`${jobs} jobs drained but ${written} replies stored`);
        workerAlone.push(jobs / ((end - start) / 1000));
      },
      async together(round: number) {
        const before = await countRows(stack, REPLIES);
        const meter = stack.cpuMeter([ingress.pid, worker.pid]);
        const start = performance.now();
        const load = await measureLoadCold(
          `end-to-end together round ${round}`,
          target,
          LOAD.durationS,
        );
        const end = await waitForDrain(queue);
        const spent = meter();
        const persisted = (await countRows(stack, REPLIES)) - before;
        cpu.together.push(perUnit(spent, persisted));
        // Requests still in flight when the load stopped may have been accepted too.
        if (persisted < load.ok) throw new Error(`${load.ok} accepted but ${persisted} stored`);
        together.push(persisted / ((end - start) / 1000));
      },
    };
    for (let round = 0; round < ctx.rounds; round++) {
      for (const step of inRoundOrder(round, ['alone', 'together'] as const)) {
        await steps[step](round + 1);
      }
    }
    await queue.close();

    return [
      ratioRow(
        {
          scenario: 'end-to-end',
          metric: 'end to end: persisted replies/s',
          unit: 'replies/s',
          baselineName: 'min(ingress alone, worker alone)',
          target: { on: 'ratio', op: '>=', value: 0.8, text: '≥ 0.8' },
          note:
            `alone, medians: ingress ${median(ingressAlone).toFixed(0)} req/s, ` +
            `worker ${median(workerAlone).toFixed(0)} jobs/s. CPU per reply (${CPU_SPLIT_LEGEND}): ` +
            `ingress alone ${cpuSplitNote(cpu.ingress)}; worker alone ${cpuSplitNote(cpu.worker)}; ` +
            `together ${cpuSplitNote(cpu.together)}`,
        },
        together,
        ingressAlone.map((rps, i) => Math.min(rps, workerAlone[i]!)),
      ),
    ];
  },
};
