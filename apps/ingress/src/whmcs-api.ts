import { apiError } from '@ticketflow/contract';
import type { ApiRequest, ApiResponse, Handler } from './handler.ts';

/** Fields WHMCS clients send to api.php besides the action's parameters; never warned about. */
export const WHMCS_TRANSPORT_FIELDS: ReadonlySet<string> = new Set([
  'action',
  'responsetype',
  'identifier',
  'secret',
  'username',
  'password',
  'accesskey',
]);

/** `/includes/api.php`: dispatches on `action` (case-insensitive, as WHMCS does). */
export function createWhmcsApi(actions: Readonly<Record<string, Handler>>): Handler {
  return async function whmcsApi(req: ApiRequest): Promise<ApiResponse> {
    const action = req.fields.get('action');
    const handler = typeof action === 'string' ? actions[action.toLowerCase()] : undefined;
    if (!handler) throw apiError('invalid_api_action');
    return handler(req);
  };
}
