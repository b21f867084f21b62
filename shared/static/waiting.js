/* The waiting counts per item that a page keeps between snapshots, as the events change them. */

/** Add `delta` to item `code`'s count in `waiting` (an item none wait for is dropped). */
export function addWaiting(waiting, code, delta) {
  if (!code) return;
  const n = (waiting[code] || 0) + delta;
  if (n > 0) waiting[code] = n;
  else delete waiting[code];
}
