import { apiError } from '@ticketflow/contract';
import type { Db } from '@ticketflow/db';
import type { RedisClient, ReplyQueue } from '@ticketflow/queue';
import type { ApiRequest, ApiResponse, Handler } from './handler.ts';
import { findReplyState } from './reply-state.ts';
import { readReplyId } from './reply-id.ts';

/**
 * `GET /api/v2/replies/:replyid`. Ops, staff and bridges see every reply; a client token sees
 * the replies it submitted, and any other id answers as unknown.
 */
export function createReplyStatus(
  db: Db,
  access: { queue: ReplyQueue; redis: RedisClient },
): Handler {
  return async function replyStatus(req: ApiRequest): Promise<ApiResponse> {
    const replyid = readReplyId(req.params.replyid ?? '');
    if (!replyid) throw apiError('reply_not_found');
    const state = await findReplyState(db, access, replyid);
    if (!state || (req.principal.role === 'client' && state.principal !== req.principal.sub)) {
      throw apiError('reply_not_found');
    }
    return {
      status: 200,
      body: {
        result: 'success',
        replyid,
        status: state.status,
        ticketid: state.ticketid,
        persistedAt: state.persistedAt,
        attempts: state.attempts,
        reason: state.reason,
      },
    };
  };
}
