/**
 * The W3C WebDriver errors the UiAutomator2 server answers with, each with its HTTP status and the
 * message the real server uses, so that Appium's proxy maps them to the same client-side errors.
 */

/** W3C error codes the server uses. */
export type W3cErrorCode =
  | 'no such element'
  | 'no such alert'
  | 'stale element reference'
  | 'unknown command'
  | 'invalid session id'
  | 'invalid argument'
  | 'invalid selector'
  | 'invalid element state'
  | 'session not created'
  | 'unknown error';

const STATUS: Record<W3cErrorCode, number> = {
  'no such element': 404,
  'no such alert': 404,
  'stale element reference': 404,
  'unknown command': 404,
  'invalid session id': 404,
  'invalid argument': 400,
  'invalid selector': 400,
  'invalid element state': 400,
  'session not created': 500,
  'unknown error': 500,
};

/** Default messages (those of the real server where it has one). */
export const MESSAGES = {
  noSuchElement: 'An element could not be located on the page using the given search parameters',
  unknownCommand:
    'The requested resource could not be found, or a request was received using an HTTP method that is not supported by the mapped resource',
  stale:
    'The element reference is stale; either the element is no longer attached to the DOM or the page has been refreshed',
} as const;

/** A failed command: the error code, its HTTP status and a message. */
export class W3cError extends Error {
  readonly status: number;
  constructor(
    readonly code: W3cErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'W3cError';
    this.status = STATUS[code];
  }
}

/** The reply body for an error: `{sessionId, value: {error, message, stacktrace}}`. */
export function errorBody(sessionId: string | null, e: W3cError): string {
  const stacktrace = `io.appium.uiautomator2.common.exceptions.${e.code.replace(
    /(?:^|\s)(\w)/g,
    (_, c: string) => c.toUpperCase(),
  )}Exception: ${e.message}\n\tat io.appium.uiautomator2.handler.request.SafeRequestHandler.handle(SafeRequestHandler.java:59)`;
  return JSON.stringify({ sessionId, value: { error: e.code, message: e.message, stacktrace } });
}
