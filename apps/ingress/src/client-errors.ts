import { maxHeaderSize, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { apiError, formatBytes } from '@ticketflow/contract';

/**
 * Requests Node's HTTP parser refuses never reach Express: headers or a URL over Node's limit
 * (16 KiB by default) would get a bare 431, a malformed request a bare 400. This answers them
 * with the JSON error shape every other error has, then closes the connection.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const api =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? apiError('headers_too_large', formatBytes(maxHeaderSize))
        : apiError('malformed_request');
    const body = JSON.stringify({ result: 'error', message: api.message, code: api.code });
    socket.end(
      `HTTP/1.1 ${api.status} ${api.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
