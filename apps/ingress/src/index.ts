export { createIngressApp, createHealthApp, type IngressDeps } from './app.ts';
export { createTokenVerifier, type VerificationKey, type TokenRules } from './verify-token.ts';
export { signToken, type TokenRequest } from './sign-token.ts';
export { ROLES, type Principal, type Role } from './principal.ts';
export { answerClientErrors } from './client-errors.ts';
export { createMetricsEndpoint } from './metrics-endpoint.ts';
export { findReplyState, type ReplyState } from './reply-state.ts';
export { readReplyId } from './reply-id.ts';
export { createRateLimiter, mailTicketLimit } from './rate-limit.ts';
