/** The wall's times, in the TV's local time and a fixed 24-hour form (no locale surprises). */

const two = (n: number) => String(n).padStart(2, "0");

/** "14:03" */
export function clockText(at: Date): string {
  return `${two(at.getHours())}:${two(at.getMinutes())}`;
}

/** "14:03:12" */
export function timeText(at: Date): string {
  return `${clockText(at)}:${two(at.getSeconds())}`;
}

/** "Updated 14:03:12", or "Waiting for the board…" before the first snapshot. */
export function updatedText(lastUpdated: Date | null): string {
  return lastUpdated ? `Updated ${timeText(lastUpdated)}` : "Waiting for the board…";
}

/** "Offline since 14:03"; an outage that began on another day names the day too ("since Mon 14:03"). */
export function offlineText(since: Date, now: Date): string {
  const sameDay = since.toDateString() === now.toDateString();
  const day = sameDay ? "" : `${since.toLocaleDateString("en-GB", { weekday: "short" })} `;
  return `Offline since ${day}${clockText(since)}`;
}
