import nodemailer from 'nodemailer';

/**
 * How long `doctor` waits on each SMTP step (connect, greeting, a reply). nodemailer's defaults
 * are minutes; a check should say "unreachable" within seconds.
 */
const VERIFY_TIMEOUT_MS = 5000;

/**
 * Connects to the SMTP server of `smtpUrl`, greets it and logs in when the URL carries
 * credentials, then hangs up; rejects with nodemailer's error when any step fails.
 */
export async function verifySmtp(smtpUrl: string): Promise<void> {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: VERIFY_TIMEOUT_MS,
    greetingTimeout: VERIFY_TIMEOUT_MS,
    socketTimeout: VERIFY_TIMEOUT_MS,
  });
  try {
    await transport.verify();
  } finally {
    transport.close();
  }
}
