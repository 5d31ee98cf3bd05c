export { createIngressApp, createHealthApp, type IngressDeps } from './app.ts';
export { createTokenVerifier, type VerificationKey, type TokenRules } from './verify-token.ts';
export { signToken, type TokenRequest } from './sign-token.ts';
export { ROLES, type Principal, type Role } from './principal.ts';
export { answerClientErrors } from './client-errors.ts';
