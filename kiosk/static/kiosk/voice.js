/* The kiosk's language and elderly mode (长者模式), and elderly mode's spoken prompts: files the
 * hub rendered with espeak-ng (no speech voices in a kiosk's Chromium, no cloud TTS in a closed
 * network). One <audio> element: a new prompt stops the one playing; Mandarin, then English when
 * English is on. A file not rendered yet (404) or a refused play() is silence. */
import { catalogue as C } from "/shared/static/catalogue.js";
import { $, en } from "/shared/static/dom.js";
import { state } from "./state.js";
import { spaced, t, t2 } from "/shared/static/i18n.js";

const VOICE = C.voice_prompts !== false;
export const SCREEN_PROMPTS = { home: "home", item: "item", ticket: "ticket", "code-screen": "code",
  "slip-screen": "slip", "complaint-screen": "complaint" };
const audio = $("prompt-audio");
let promptQueue = [];
let promptGen = 0; // bumped by every stop: a late `ended` of an old prompt starts nothing

export function setEnglish(on) {
  state.english = !!on;
  document.body.classList.toggle("bilingual", state.english);
  const b = $("toggle-lang");
  if (state.english) {
    b.replaceChildren(t("lang.name"));
    b.setAttribute("aria-label", spaced("kiosk.chinese_only"));
  } else {
    b.replaceChildren(en(t2("lang.name"), ""));
    b.setAttribute("aria-label", spaced("kiosk.show_english"));
  }
}

export function setElderly(on) {
  const was = state.elderly;
  state.elderly = !!on;
  document.body.classList.toggle("elderly", state.elderly);
  $("toggle-elderly").setAttribute("aria-pressed", String(state.elderly));
  for (const b of document.querySelectorAll(".replay")) b.hidden = !(state.elderly && VOICE);
  if (state.elderly && !was) playPrompt(screenPrompt());
  else if (!state.elderly) stopPrompt();
}

export function stopPrompt() {
  promptGen += 1;
  promptQueue = [];
  audio.pause();
}

function playNext(gen) {
  if (gen !== promptGen || !promptQueue.length) return;
  audio.src = promptQueue.shift();
  const p = audio.play();
  if (p && p.catch) p.catch(() => {}); // not rendered, or autoplay refused: stay quiet
}

function screenPrompt() {
  if (state.screen === "ticket" && state.print === "failed") return "print_failed";
  return SCREEN_PROMPTS[state.screen] || null;
}

export function playPrompt(key) {
  stopPrompt();
  if (!state.elderly || !VOICE || !key) return;
  promptQueue = ["zh", ...(state.english ? ["en"] : [])].map((l) => `/kiosk/prompts/${key}.${l}.wav`);
  playNext(promptGen);
}

export function wireVoice() {
  audio.addEventListener("ended", () => playNext(promptGen));
  audio.addEventListener("error", () => playNext(promptGen));
  for (const b of document.querySelectorAll(".replay")) {
    b.addEventListener("click", () => playPrompt(screenPrompt()));
  }
  $("toggle-lang").addEventListener("click", () => setEnglish(!state.english));
  $("toggle-elderly").addEventListener("click", () => {
    state.elderlyByCard = false; // the citizen's own choice now: kept when the card goes
    setElderly(!state.elderly);
  });
}
