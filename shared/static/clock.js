/* The hub's time, as the last snapshot gave it (`now`): a screen's or kiosk's Pi has no battery
 * clock and may boot before it can sync, and a staff PC's clock may be off; times shown, counted
 * or compared (opening hours, "served for", a rating's deadline) must agree with the hub's
 * events whatever the machine's clock says. The socket helper follows every snapshot. */

let skew = 0; // the hub's clock minus this machine's, in ms

/** An event time (an ISO string with microseconds; Date.parse wants at most milliseconds). */
export const parseAt = (iso) => Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1"));

/** The hub's time now, in ms since the epoch. */
export const hubNow = () => Date.now() + skew;

export function followHubClock(snap) {
  const hub = parseAt(snap && snap.now);
  if (!Number.isNaN(hub)) skew = hub - Date.now();
}
