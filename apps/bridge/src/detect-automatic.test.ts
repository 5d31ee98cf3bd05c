import { describe, expect, it } from 'vitest';
import { detectAutomatic } from './detect-automatic.ts';

/** A message with these headers (lower-case names, as readMessage keys them). */
function withHeaders(headers: Record<string, string>, contentType = 'text/plain') {
  return { header: (name: string) => headers[name.toLowerCase()], contentType };
}

describe('detectAutomatic', () => {
  it('passes a message a person wrote', () => {
    expect(detectAutomatic(withHeaders({ 'auto-submitted': 'no' }))).toBeUndefined();
    expect(detectAutomatic(withHeaders({ 'auto-submitted': 'No (a person)' }))).toBeUndefined();
    expect(detectAutomatic(withHeaders({ precedence: 'first-class' }))).toBeUndefined();
    expect(detectAutomatic(withHeaders({}, 'multipart/mixed; boundary=x'))).toBeUndefined();
  });

  it.each([
    ['auto-replied', 'auto_submitted'],
    ['auto-generated', 'auto_submitted'],
    ['auto-notified; owner-email="a@b"', 'auto_submitted'],
  ])('drops Auto-Submitted: %s (RFC 3834: anything but "no")', (value, reason) => {
    expect(detectAutomatic(withHeaders({ 'auto-submitted': value }))?.reason).toBe(reason);
  });

  it.each(['bulk', 'list', 'JUNK', ' list '])('drops Precedence: %s', (value) => {
    expect(detectAutomatic(withHeaders({ precedence: value }))?.reason).toBe('bulk_precedence');
  });

  it('drops Exchange automatic mail (X-Auto-Response-Suppress)', () => {
    expect(detectAutomatic(withHeaders({ 'x-auto-response-suppress': 'All' }))?.reason).toBe(
      'auto_response_suppress',
    );
  });

  it('drops a delivery status report (a bounce), however its report-type is quoted', () => {
    for (const type of [
      'multipart/report; report-type=delivery-status; boundary="b"',
      'Multipart/Report; boundary="b"; report-type="delivery-status"',
    ]) {
      expect(detectAutomatic(withHeaders({}, type))).toEqual({
        reason: 'bounce',
        detail: 'a delivery status report',
      });
    }
  });

  it('names a loop first: our notification comes back with the loop header', () => {
    expect(
      detectAutomatic(
        withHeaders({ 'x-ticketflow-loop': 'desk.example', 'auto-submitted': 'auto-generated' }),
      ),
    ).toEqual({ reason: 'loop', detail: 'X-Ticketflow-Loop: desk.example' });
  });
});
