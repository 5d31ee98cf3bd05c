import type { TestStack } from './stack.ts';

/** Reply rows in the stack's database that match `where` (all of them without it). */
export async function countReplies(
  stack: TestStack,
  where: Record<string, unknown> = {},
): Promise<number> {
  const [row] = await stack.database
    .db('ticket_replies')
    .where(where)
    .count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

/** Jobs in the stack's reply queue, in any state. */
export async function countJobs(stack: TestStack): Promise<number> {
  const counts = await stack.queue.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
