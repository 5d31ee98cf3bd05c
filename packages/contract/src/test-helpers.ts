/**
 * Test support for this package's *.test.ts files: assertions about the ApiErrors its readers
 * throw. Not part of the package's interface; index.ts must never export it.
 */
import { expect } from 'vitest';
import { ApiError } from './errors.ts';

/** The ApiError `run` throws; fails the test if it throws nothing or something else. */
export function apiErrorFrom(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected an ApiError, but nothing was thrown');
}

/**
 * Asserts `run` throws an ApiError with `status` and `code`, and a message that is `message`
 * (a string) or matches it (a RegExp).
 */
export function expectApiError(
  run: () => unknown,
  expected: { status: number; code: string; message: string | RegExp },
): void {
  const error = apiErrorFrom(run);
  expect(error.status).toBe(expected.status);
  expect(error.code).toBe(expected.code);
  if (typeof expected.message === 'string') expect(error.message).toBe(expected.message);
  else expect(error.message).toMatch(expected.message);
}
