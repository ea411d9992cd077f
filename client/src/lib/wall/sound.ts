/**
 * The celebration's chime: two short tones made with WebAudio (no file to load). Only when
 * the display's config asks for sound. A TV browser usually refuses audio until someone
 * interacts with the page; then the chime is skipped quietly, never an error on screen.
 */

type AudioContextCtor = new () => AudioContext;

let context: AudioContext | null = null;
let warned = false;

function audioContext(): AudioContext | null {
  if (context) return context;
  const Ctor = (globalThis as { AudioContext?: AudioContextCtor; webkitAudioContext?: AudioContextCtor }).AudioContext ??
    (globalThis as { webkitAudioContext?: AudioContextCtor }).webkitAudioContext;
  if (!Ctor) return null;
  try {
    context = new Ctor();
  } catch {
    return null;
  }
  return context;
}

function tone(ctx: AudioContext, frequency: number, startAt: number, seconds: number): void {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = "sine";
  osc.frequency.value = frequency;
  // A soft attack and release: a chime, not a click.
  gain.gain.setValueAtTime(0.0001, startAt);
  gain.gain.exponentialRampToValueAtTime(0.25, startAt + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, startAt + seconds);
  osc.connect(gain).connect(ctx.destination);
  osc.start(startAt);
  osc.stop(startAt + seconds + 0.05);
}

/** Plays the chime if the browser lets the page make sound now; never throws, never rejects. */
export async function chime(): Promise<void> {
  try {
    const ctx = audioContext();
    if (!ctx) return;
    // Without a gesture Chrome leaves resume() pending rather than refusing it: do not wait for ever.
    if (ctx.state === "suspended") await Promise.race([ctx.resume().catch(() => {}), new Promise((r) => setTimeout(r, 500))]);
    if (ctx.state !== "running") {
      if (!warned) console.info("[wall] The browser does not allow sound on this page yet; celebrations are silent");
      warned = true;
      return;
    }
    const t = ctx.currentTime;
    tone(ctx, 880, t, 0.25);
    tone(ctx, 1318.5, t + 0.18, 0.4);
  } catch {
    // Sound is a nicety: nothing about it may disturb the wall.
  }
}
