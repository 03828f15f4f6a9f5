/** For launchers and demos: waits until the notifications service lists an email for a trip. */

export interface SentEmail {
  id: string;
  eventId: string;
  tripId: string;
  kind: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
}

/** Polls `GET /emails?tripId=` until at least one email is there; resolves with them (or [] on timeout). */
export async function waitForEmails(
  notificationsUrl: string,
  tripId: string,
  timeoutMs = 15_000,
): Promise<SentEmail[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${notificationsUrl}/emails?tripId=${encodeURIComponent(tripId)}`);
      if (res.ok) {
        const emails = (await res.json()) as SentEmail[];
        if (emails.length > 0) return emails;
      }
    } catch {
      // Not up yet: keep polling until the deadline.
    }
    if (Date.now() > deadline) return [];
    await new Promise((r) => setTimeout(r, 250));
  }
}
