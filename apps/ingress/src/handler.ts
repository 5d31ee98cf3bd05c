import type { FormMap } from '@ticketflow/contract';
import type { Principal } from './principal.ts';
import type { StagedUpload } from './stage-uploads.ts';

/** A request as handlers see it: parsed, authenticated, framework-free. */
export interface ApiRequest {
  principal: Principal;
  fields: FormMap;
  /** File parts, already streamed into the blob store (multipart). */
  uploads: readonly StagedUpload[];
  params: Readonly<Record<string, string>>;
  /** The raw body of a route that takes one `message/rfc822` (inbound email). */
  message?: Buffer;
  header(name: string): string | undefined;
  /** X-Request-Id as given, or made for this request. */
  requestId: string;
}

/** What a handler answers; the Express adapter writes it. Errors are thrown as ApiError. */
export interface ApiResponse {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export type Handler = (req: ApiRequest) => Promise<ApiResponse>;
