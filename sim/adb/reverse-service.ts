/**
 * The `reverse:` service. The simulated phone has no way to connect to a reversed port, so forward
 * requests fail cleanly ("not supported"); listing answers an empty list and removing everything works.
 * Replies are adb status words as stream data: "OKAY", or "FAIL" + 4 hex digits length + message.
 */

/** The bytes a phone answers to one reverse request. */
export function reverseReply(request: string): Buffer {
  if (request === 'list-forward') return Buffer.from(`OKAY${hexLength('')}`);
  if (request === 'killforward-all') return Buffer.from('OKAYOKAY');
  if (request.startsWith('killforward:')) {
    return failure(`listener '${request.slice('killforward:'.length)}' not found`);
  }
  if (request.startsWith('forward:')) return failure('not supported');
  return failure(`unknown reverse command: ${request}`);
}

function failure(message: string): Buffer {
  return Buffer.from(`FAIL${hexLength(message)}${message}`);
}

function hexLength(text: string): string {
  return Buffer.byteLength(text).toString(16).padStart(4, '0');
}
